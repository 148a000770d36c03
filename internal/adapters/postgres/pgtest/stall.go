package pgtest

import (
	"context"
	"net"
	"strconv"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"
)

// Stall is a TCP proxy between a pool and its database that can stop
// forwarding, as a network that silently drops packets does: the
// connections stay open and nothing arrives, either way, until Resume; a
// connection made meanwhile hangs as well.
type Stall struct {
	ln     net.Listener
	target string
	done   chan struct{}

	mu sync.Mutex
	// flowing is closed while bytes flow; a stall replaces it with one
	// that Resume closes.
	flowing chan struct{}
	conns   []net.Conn
	wg      sync.WaitGroup
}

// Stalling returns a pool of pool's database whose connections pass
// through a Stall, and the Stall. The pool closes when the test ends, the
// Stall resumed first; close what holds its connections before (register
// its cleanup after calling Stalling).
func Stalling(t testing.TB, pool *pgxpool.Pool) (*pgxpool.Pool, *Stall) {
	t.Helper()
	cc := pool.Config().ConnConfig
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("pgtest: stall: %v", err)
	}
	flowing := make(chan struct{})
	close(flowing)
	s := &Stall{ln: ln, target: net.JoinHostPort(cc.Host, strconv.Itoa(int(cc.Port))), done: make(chan struct{}), flowing: flowing}
	s.wg.Go(s.accept)

	cfg := pool.Config().Copy()
	cfg.ConnConfig.Host, cfg.ConnConfig.Port = "127.0.0.1", uint16(ln.Addr().(*net.TCPAddr).Port)
	cfg.ConnConfig.Fallbacks = nil
	cfg.MinConns = 0
	through, err := pgxpool.NewWithConfig(context.Background(), cfg)
	if err != nil {
		s.close()
		t.Fatalf("pgtest: stall: %v", err)
	}
	t.Cleanup(func() {
		s.Resume()
		through.Close()
		s.close()
	})
	return through, s
}

// Stop stops forwarding, on every connection and on those made until
// Resume.
func (s *Stall) Stop() {
	s.mu.Lock()
	defer s.mu.Unlock()
	select {
	case <-s.flowing:
		s.flowing = make(chan struct{})
	default:
	}
}

// Resume forwards again, what was held first.
func (s *Stall) Resume() {
	s.mu.Lock()
	defer s.mu.Unlock()
	select {
	case <-s.flowing:
	default:
		close(s.flowing)
	}
}

// pass waits while forwarding is stopped; false once the proxy closes.
func (s *Stall) pass() bool {
	s.mu.Lock()
	flowing := s.flowing
	s.mu.Unlock()
	select {
	case <-flowing:
		return true
	case <-s.done:
		return false
	}
}

func (s *Stall) accept() {
	for {
		client, err := s.ln.Accept()
		if err != nil {
			return
		}
		server, err := net.Dial("tcp", s.target)
		if err != nil {
			client.Close()
			continue
		}
		s.mu.Lock()
		select {
		case <-s.done:
			s.mu.Unlock()
			client.Close()
			server.Close()
			return
		default:
		}
		s.conns = append(s.conns, client, server)
		s.mu.Unlock()
		s.wg.Go(func() { s.pipe(server, client) })
		s.wg.Go(func() { s.pipe(client, server) })
	}
}

// pipe forwards what src sends to dst, when it may, until either ends.
func (s *Stall) pipe(dst, src net.Conn) {
	defer dst.Close()
	defer src.Close()
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 && !s.pass() {
			return
		}
		if n > 0 {
			if _, err := dst.Write(buf[:n]); err != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}

// close ends the proxy and every connection through it.
func (s *Stall) close() {
	s.mu.Lock()
	close(s.done)
	s.mu.Unlock()
	s.ln.Close()
	s.mu.Lock()
	for _, c := range s.conns {
		c.Close()
	}
	s.mu.Unlock()
	s.wg.Wait()
}
