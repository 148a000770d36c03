package httpapi

import (
	"bufio"
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

// rawStream is a live feed read over a TCP connection of its own, with
// nothing between the test and the socket: a reader that follows the
// stream, or one that stalls, reading nothing at all, until told to.
type rawStream struct {
	conn net.Conn

	mu    sync.Mutex
	ids   []string // each message's id, in the order received
	ended chan error
}

// dialStream opens a live feed at query (such as "?limit=1") as staff,
// with headers as "Name: value" lines. A stalled stream reads nothing, and
// keeps its socket's receive buffer small, until it resumes.
func dialStream(t *testing.T, addr, query string, stall bool, headers ...string) *rawStream {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	if stall {
		if err := conn.(*net.TCPConn).SetReadBuffer(4 << 10); err != nil {
			t.Fatal(err)
		}
	}
	req := "GET /v1/events" + query + " HTTP/1.1\r\nHost: orderapi.test\r\nAccept: text/event-stream\r\n" +
		"Authorization: Bearer " + staffToken + "\r\n"
	for _, h := range headers {
		req += h + "\r\n"
	}
	if _, err := fmt.Fprint(conn, req+"\r\n"); err != nil {
		t.Fatal(err)
	}
	s := &rawStream{conn: conn, ended: make(chan error, 1)}
	if !stall {
		go s.read()
	}
	return s
}

// resume makes a stalled stream read, at full speed.
func (s *rawStream) resume() error {
	if err := s.conn.(*net.TCPConn).SetReadBuffer(1 << 20); err != nil {
		return err
	}
	go s.read()
	return nil
}

// read reads the stream until it ends, noting each message's id.
func (s *rawStream) read() {
	resp, err := http.ReadResponse(bufio.NewReader(s.conn), nil)
	if err != nil {
		s.ended <- err
		return
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		s.ended <- fmt.Errorf("status %d", resp.StatusCode)
		return
	}
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		if id, ok := strings.CutPrefix(sc.Text(), "id: "); ok {
			s.mu.Lock()
			s.ids = append(s.ids, id)
			s.mu.Unlock()
		}
	}
	s.ended <- sc.Err()
}

// received returns the ids received so far.
func (s *rawStream) received() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.ids...)
}

// await waits until the stream has received n ids.
func (s *rawStream) await(t *testing.T, n int, within time.Duration) {
	t.Helper()
	for deadline := time.Now().Add(within); len(s.received()) < n; time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("a stream received %d events, want %d", len(s.received()), n)
		}
	}
}

// smallSendBuffers makes the server's sockets buffer little, so that a
// client that stops reading is felt after kilobytes rather than the
// megabytes loopback would otherwise hold.
type smallSendBuffers struct{ net.Listener }

func (l smallSendBuffers) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if tc, ok := c.(*net.TCPConn); ok {
		err = tc.SetWriteBuffer(16 << 10)
	}
	return c, err
}
