package livefeed

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"sync"
	"time"

	"github.com/orderapi/orderapi/internal/app"
	"github.com/orderapi/orderapi/internal/feedhub"
)

// sseWriter writes server-sent events (the text/event-stream format of the
// HTML standard) straight to the connection, flushing each batch at once.
// It keeps no buffer of its own: a stream's memory does not grow with the
// pages it has sent.
type sseWriter struct {
	w      http.ResponseWriter
	rc     *http.ResponseController
	encode func(app.RecordedEvent) ([]byte, error)

	// mu orders begin's deadlines against the one endWhen sets.
	mu      sync.Mutex
	closed  bool
	writing bool
	pulled  bool // endWhen cut a write's deadline short
}

// errStreamClosing ends a stream's writes once the server shuts down or
// the stream's token expires.
var errStreamClosing = errors.New("the stream is ending")

// endWhen has the stream's writes fail from when closing is closed (the
// server shuts down) or, unless it is zero, at expires (the token that
// opened the stream stops vouching for its caller); ending is closed then
// too. A stream waiting for events sees ending and ends cleanly by itself;
// one blocked in a write, because its client stopped reading, is deaf to
// it and would hold the server's graceful shutdown for the write's whole
// deadline, so that write's deadline is pulled in. The returned stop must
// be called when the stream ends.
func (s *sseWriter) endWhen(closing <-chan struct{}, expires time.Time) (ending <-chan struct{}, stop func()) {
	var expired <-chan time.Time
	var timer *time.Timer
	if !expires.IsZero() {
		timer = time.NewTimer(time.Until(expires))
		expired = timer.C
	}
	done, end, exited := make(chan struct{}), make(chan struct{}), make(chan struct{})
	go func() {
		defer close(exited)
		select {
		case <-closing:
		case <-expired:
		case <-done:
			return
		}
		s.mu.Lock()
		s.closed = true
		if s.writing {
			_ = s.rc.SetWriteDeadline(time.Now())
			s.pulled = true
		}
		s.mu.Unlock()
		close(end)
	}()
	return end, func() {
		close(done)
		<-exited
		if timer != nil {
			timer.Stop()
		}
		// The write whose deadline was pulled in may have been done
		// already, its client reading: the server's last chunk, which
		// ends the response cleanly, gets a moment of its own.
		if s.pulled {
			_ = s.rc.SetWriteDeadline(time.Now().Add(sseLastWriteGrace))
		}
	}
}

// events writes one message per event, as encodeFeedMessage makes it.
func (s *sseWriter) events(events []*feedhub.Event) error {
	if len(events) == 0 {
		return nil
	}
	if err := s.begin(); err != nil {
		return err
	}
	defer s.end()
	for _, e := range events {
		msg, err := e.Encoded(s.encode)
		if err != nil {
			return err
		}
		if _, err := s.w.Write(msg); err != nil {
			return err
		}
	}
	return s.rc.Flush()
}

// comment writes a comment line, which clients ignore: it keeps proxies
// from closing a quiet connection.
func (s *sseWriter) comment(text string) error {
	return s.send(": " + text + "\n\n")
}

// retry tells the client how long to wait before reconnecting.
func (s *sseWriter) retry(d time.Duration) error {
	return s.send(fmt.Sprintf("retry: %d\n\n", d.Milliseconds()))
}

func (s *sseWriter) send(text string) error {
	if err := s.begin(); err != nil {
		return err
	}
	defer s.end()
	if _, err := io.WriteString(s.w, text); err != nil {
		return err
	}
	return s.rc.Flush()
}

// begin starts a write, with sseWriteTimeout to finish in: the server's
// WriteTimeout would cut the stream, so the deadline it sets once per
// request is pushed forward before each write. Once the server shuts
// down, no write begins.
func (s *sseWriter) begin() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return errStreamClosing
	}
	s.writing = true
	err := s.rc.SetWriteDeadline(time.Now().Add(sseWriteTimeout))
	if errors.Is(err, http.ErrNotSupported) {
		return nil
	}
	return err
}

// end ends a write begin started.
func (s *sseWriter) end() {
	s.mu.Lock()
	s.writing = false
	s.mu.Unlock()
}
