package httpapi

import (
	"io"
	"net"
	"net/url"
	"sync"
	"testing"
	"time"
)

// dbProxy forwards TCP connections to a database server, and can lose the
// answers of the connection that last sent something, as a network that
// fails mid-statement does.
type dbProxy struct {
	ln     net.Listener
	target string

	mu    sync.Mutex
	last  *proxied // the connection that last sent the server something
	conns []*proxied
}

type proxied struct {
	client, server net.Conn
	mu             sync.Mutex
	lose           bool // answers from the server are dropped
}

// newDBProxy proxies the server of dbURL; it returns the proxy and the URL
// that reaches the database through it.
func newDBProxy(t *testing.T, dbURL string) (*dbProxy, string) {
	t.Helper()
	u, err := url.Parse(dbURL)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &dbProxy{ln: ln, target: u.Host}
	t.Cleanup(func() {
		ln.Close()
		p.mu.Lock()
		defer p.mu.Unlock()
		for _, c := range p.conns {
			c.client.Close()
			c.server.Close()
		}
	})
	go p.serve()
	u.Host = ln.Addr().String()
	return p, u.String()
}

func (p *dbProxy) serve() {
	for {
		client, err := p.ln.Accept()
		if err != nil {
			return
		}
		server, err := net.DialTimeout("tcp", p.target, 5*time.Second)
		if err != nil {
			client.Close()
			continue
		}
		c := &proxied{client: client, server: server}
		p.mu.Lock()
		p.conns = append(p.conns, c)
		p.mu.Unlock()
		go p.toServer(c)
		go c.toClient()
	}
}

func (p *dbProxy) toServer(c *proxied) {
	buf := make([]byte, 32<<10)
	for {
		n, err := c.client.Read(buf)
		if n > 0 {
			p.mu.Lock()
			p.last = c
			p.mu.Unlock()
			if _, werr := c.server.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			c.server.Close()
			return
		}
	}
}

func (c *proxied) toClient() {
	buf := make([]byte, 32<<10)
	for {
		n, err := c.server.Read(buf)
		c.mu.Lock()
		lose := c.lose
		c.mu.Unlock()
		if n > 0 && !lose {
			if _, werr := c.client.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err == io.EOF || err != nil {
			c.client.Close()
			return
		}
	}
}

// loseAnswers drops, from now on, what the server sends on the connection
// that last sent it something; cut then closes that connection's client
// side, as a failed network would end it.
func (p *dbProxy) loseAnswers() (cut func()) {
	p.mu.Lock()
	c := p.last
	p.mu.Unlock()
	c.mu.Lock()
	c.lose = true
	c.mu.Unlock()
	return func() { c.client.Close() }
}
