package httpapi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/orderapi/orderapi/internal/adapters/cursor"
	"github.com/orderapi/orderapi/internal/app"
	"github.com/rs/zerolog/hlog"
)

const (
	// sseRetry is the reconnection delay the stream suggests to clients.
	sseRetry = 2 * time.Second
	// sseWriteTimeout bounds each write of a live feed: a client that
	// reads nothing for this long is dropped.
	sseWriteTimeout = 30 * time.Second
	// settleFirst is the first delay of the quick second looks after a
	// wake-up that found nothing; see liveFeed.serve.
	settleFirst = 20 * time.Millisecond
)

// liveFeed streams the global feed as server-sent events.
type liveFeed struct {
	// subscribe, if not nil, returns wake-ups sent after appends.
	subscribe func() (<-chan struct{}, func())
	// poll is how long the stream waits for a wake-up before it looks
	// anyway; heartbeat, how often a quiet stream sends a comment.
	poll, heartbeat time.Duration
	// readTimeout bounds each read of the feed.
	readTimeout time.Duration
	// closing, once closed, ends every stream: the server shuts down.
	closing <-chan struct{}
	// cursors signs each event's id.
	cursors *cursor.Signer
}

// serve streams the feed after q.After: each event as a message whose id
// is the cursor after it, so that a reconnecting EventSource resumes
// exactly there. It reads a page; sends it; reads again at once if the
// page was full, else waits for a wake-up from the database's
// notifications, the poll timer (a wake-up may be lost), the heartbeat, or
// the end: the client leaving or the server shutting down.
func (lf *liveFeed) serve(w http.ResponseWriter, r *http.Request, feed feedReader, q app.FeedQuery) {
	ctx := r.Context()
	var wake <-chan struct{} // nil, which never fires, leaves polling alone
	if lf.subscribe != nil {
		ch, cancel := lf.subscribe()
		defer cancel()
		wake = ch
	}
	// Subscribed before the first read, so that no append committed after
	// it goes unnoticed. That read comes before the 200, so that a database
	// that cannot be reached is a 503 problem, not an empty stream.
	page, err := lf.read(ctx, feed, q)
	if err != nil {
		writeError(w, r, err)
		return
	}

	setEventStreamHeaders(w.Header())
	w.WriteHeader(http.StatusOK)
	// The server's WriteTimeout would cut the stream: the write deadline
	// it sets once per request is pushed forward before each write.
	out := &sseWriter{w: w, rc: http.NewResponseController(w), cursors: lf.cursors}
	if out.retry(sseRetry) != nil {
		return
	}

	heartbeat := time.NewTicker(lf.heartbeat)
	defer heartbeat.Stop()
	timer := time.NewTimer(lf.poll)
	defer timer.Stop()
	// settle > 0 at the start and after a wake-up: what committed just
	// before may not be readable yet while an older write transaction in
	// the database is still running (see app.FeedCursor), and no wake-up
	// comes when that one ends unless it appended events too. Rather than wait for the poll,
	// a stream that found nothing looks again soon, at doubling delays.
	// After a wake-up, only an unfiltered stream does: with a type filter,
	// finding nothing is the usual outcome of a wake-up and proves nothing.
	settle := settleFirst
	for {
		if err := out.events(page.Events); err != nil {
			return
		}
		q.After = page.Next
		if len(page.Events) < q.Limit {
			next := lf.poll
			if settle > 0 && len(page.Events) == 0 && settle < lf.poll {
				next, settle = settle, 2*settle
			} else {
				settle = 0
			}
			timer.Reset(next)
			woken, ok := lf.wait(ctx, out, heartbeat, timer, wake)
			if !ok {
				return
			}
			if woken && len(q.Types) == 0 {
				settle = settleFirst
			}
		}
		if page, err = lf.read(ctx, feed, q); err != nil {
			if ctx.Err() != nil {
				return
			}
			if _, internal := toProblem(err); internal {
				// The client reconnects with the last id it received.
				hlog.FromRequest(r).Error().Err(err).Msg("live feed failed")
				return
			}
			// The database is away: keep the stream, look again later.
			hlog.FromRequest(r).Warn().Err(err).Msg("live feed read failed; retrying")
			page, settle = app.FeedPage{Next: q.After}, 0
		}
	}
}

// wait blocks until it is time to read again: woken reports a wake-up
// rather than the timer; ok is false when the stream must end.
func (lf *liveFeed) wait(ctx context.Context, out *sseWriter, heartbeat *time.Ticker, timer *time.Timer, wake <-chan struct{}) (woken, ok bool) {
	for {
		select {
		case <-ctx.Done():
			return false, false
		case <-lf.closing:
			return false, false
		case <-heartbeat.C:
			if out.comment("keep-alive") != nil {
				return false, false
			}
		case <-wake:
			return true, true
		case <-timer.C:
			return false, true
		}
	}
}

func (lf *liveFeed) read(ctx context.Context, feed feedReader, q app.FeedQuery) (app.FeedPage, error) {
	ctx, cancel := context.WithTimeout(ctx, lf.readTimeout)
	defer cancel()
	return feed.Feed(ctx, q)
}

// sseWriter writes server-sent events (the text/event-stream format of the
// HTML standard), flushing each batch to the client at once.
type sseWriter struct {
	w       http.ResponseWriter
	rc      *http.ResponseController
	buf     bytes.Buffer
	cursors *cursor.Signer
}

// events writes one message per event. Its data is one line: JSON as
// encoding/json writes it has no newline.
func (s *sseWriter) events(events []app.RecordedEvent) error {
	if len(events) == 0 {
		return nil
	}
	for _, e := range events {
		data, err := json.Marshal(toFeedEventJSON(e))
		if err != nil {
			return fmt.Errorf("encode event %s: %w", e.EventID, err)
		}
		fmt.Fprintf(&s.buf, "id: %s\nevent: %s\ndata: %s\n\n", encodeFeedCursor(s.cursors, app.CursorOf(e)), e.Type, data)
	}
	return s.send()
}

// comment writes a comment line, which clients ignore: it keeps proxies
// from closing a quiet connection.
func (s *sseWriter) comment(text string) error {
	fmt.Fprintf(&s.buf, ": %s\n\n", text)
	return s.send()
}

// retry tells the client how long to wait before reconnecting.
func (s *sseWriter) retry(d time.Duration) error {
	fmt.Fprintf(&s.buf, "retry: %d\n\n", d.Milliseconds())
	return s.send()
}

// send writes the buffer and flushes it, within a fresh write deadline.
func (s *sseWriter) send() error {
	defer s.buf.Reset()
	if err := s.rc.SetWriteDeadline(time.Now().Add(sseWriteTimeout)); err != nil && !errors.Is(err, http.ErrNotSupported) {
		return err
	}
	if _, err := s.w.Write(s.buf.Bytes()); err != nil {
		return err
	}
	return s.rc.Flush()
}

// newLiveFeed takes the live feed's settings from the configuration, whose
// RequestTimeout is already set.
func newLiveFeed(cfg Config) (*liveFeed, error) {
	lf := &liveFeed{
		subscribe:   cfg.Wake,
		poll:        cfg.FeedPoll,
		heartbeat:   cfg.FeedHeartbeat,
		readTimeout: cfg.RequestTimeout,
		closing:     cfg.Closing,
		cursors:     cfg.Cursors,
	}
	if lf.poll == 0 {
		lf.poll = defaultFeedPoll
	}
	if lf.heartbeat == 0 {
		lf.heartbeat = defaultFeedHeartbeat
	}
	if lf.poll < 0 || lf.heartbeat < 0 {
		return nil, fmt.Errorf("httpapi: negative FeedPoll %s or FeedHeartbeat %s", lf.poll, lf.heartbeat)
	}
	return lf, nil
}
