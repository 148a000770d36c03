package httpapi

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sync"
	"time"

	"github.com/orderapi/orderapi/internal/adapters/cursor"
	"github.com/orderapi/orderapi/internal/app"
	"github.com/orderapi/orderapi/internal/feedhub"
	"github.com/rs/zerolog"
	"github.com/rs/zerolog/hlog"
)

const (
	// sseRetry is the reconnection delay the stream suggests to clients.
	sseRetry = 2 * time.Second
	// sseWriteTimeout bounds each write of a live feed: a client that
	// reads nothing for this long is dropped.
	sseWriteTimeout = 30 * time.Second
	// sseLastWriteGrace bounds the write that ends a stream cut short
	// (see sseWriter.endWhen).
	sseLastWriteGrace = time.Second
)

// liveFeed streams the global feed as server-sent events, from the
// process's shared tail.
type liveFeed struct {
	hub *feedhub.Hub
	// streams admits each stream, by client (see caller).
	streams *streamSlots
	client  func(*http.Request) string
	// heartbeat is how often a quiet stream sends a comment.
	heartbeat time.Duration
	// closing, once closed, ends every stream: the server shuts down.
	closing <-chan struct{}
	// readTimeout bounds the reads a stream makes before it begins.
	readTimeout time.Duration
	// encode makes an event's message, its id signed.
	encode func(app.RecordedEvent) ([]byte, error)
}

// serve streams the feed after q.After: each event as a message whose id
// is the cursor after it, so that a reconnecting EventSource resumes
// exactly there. A stream the client does not read fast enough is ended
// after what it was sent (see feedhub.ErrTooSlow); the client resumes from
// its last id. q.Limit does not matter here: the hub reads large pages.
//
// A stream lasts as long as the token that opened it: it ends, as at
// shutdown, when the principal's Expires passes, and the client reconnects
// with a fresh token and its last id. A token that has expired already
// (the verifier allows some clock skew) opens none.
func (lf *liveFeed) serve(w http.ResponseWriter, r *http.Request, q app.FeedQuery) {
	ctx := r.Context()
	expires := principalFrom(ctx).Expires
	if err := tokenLive(expires); err != nil {
		writeError(w, r, err)
		return
	}
	release, err := lf.streams.acquire(lf.client(r))
	if err != nil {
		writeError(w, r, err)
		return
	}
	defer release()
	sub, err := lf.hub.Subscribe(feedhub.Query{After: q.After, Types: q.Types})
	if err != nil {
		writeError(w, r, err)
		return
	}
	defer sub.Close()
	// The first read comes before the 200, so that a database that cannot
	// be reached is a 503 problem, not an empty stream.
	batch, err := sub.Next(ctx)
	if err != nil {
		writeError(w, r, err)
		return
	}

	setEventStreamHeaders(w.Header())
	w.WriteHeader(http.StatusOK)
	out := &sseWriter{w: w, rc: http.NewResponseController(w), encode: lf.encode}
	ending, stop := out.endWhen(lf.closing, expires)
	defer stop()
	if out.retry(sseRetry) != nil {
		return
	}
	heartbeat := time.NewTicker(lf.heartbeat)
	defer heartbeat.Stop()
	log := hlog.FromRequest(r)
	for {
		if err := out.events(batch); err != nil {
			log.Debug().Err(err).Msg("live feed write failed")
			return
		}
		select {
		case <-ctx.Done():
			return
		case <-ending:
			return
		case <-heartbeat.C:
			batch = nil
			if out.comment("keep-alive") != nil {
				return
			}
			continue
		case <-sub.Ready():
		}
		if batch, err = sub.Next(ctx); err != nil && !goOn(log, ctx.Err(), err) {
			return
		}
	}
}

// goOn reports whether a live feed outlives err from its subscription,
// logging what the operator should know.
func goOn(log *zerolog.Logger, ended error, err error) bool {
	switch {
	case ended != nil, errors.Is(err, feedhub.ErrClosed):
		return false
	case errors.Is(err, feedhub.ErrTooSlow):
		// The hub logged the drop; the client resumes from its last id.
		return false
	}
	if _, internal := toProblem(err); internal {
		// The client reconnects with the last id it received.
		log.Error().Err(err).Msg("live feed failed")
		return false
	}
	// The database is away: keep the stream; the read is tried again.
	log.Warn().Err(err).Msg("live feed read failed; retrying")
	return true
}

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

// tokenLive refuses a live feed to a token that has expired at expires,
// though within the clock skew the verifier allows: its stream would end
// at once.
func tokenLive(expires time.Time) error {
	if !expires.IsZero() && !time.Now().Before(expires) {
		return errStreamTokenExpired
	}
	return nil
}

var errStreamTokenExpired = app.InvalidToken("expired")

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

// feedMessages makes events' messages: the id the cursor after the event,
// signed with cursors, the name the event's type, the data the FeedEvent
// as one line (JSON as encoding/json writes it has no newline). Each
// event's message is made once and shared by every stream (see
// feedhub.Event.Encoded).
func feedMessages(cursors *cursor.Signer) func(app.RecordedEvent) ([]byte, error) {
	return func(e app.RecordedEvent) ([]byte, error) {
		return encodeFeedMessage(cursors, e)
	}
}

func encodeFeedMessage(cursors *cursor.Signer, e app.RecordedEvent) ([]byte, error) {
	data, err := json.Marshal(toFeedEventJSON(e))
	if err != nil {
		return nil, fmt.Errorf("encode event %s: %w", e.EventID, err)
	}
	id := encodeFeedCursor(cursors, app.CursorOf(e))
	msg := make([]byte, 0, len("id: \nevent: \ndata: \n\n")+len(id)+len(e.Type)+len(data))
	msg = append(append(append(msg, "id: "...), id...), "\nevent: "...)
	msg = append(append(append(msg, e.Type...), "\ndata: "...), data...)
	return append(msg, "\n\n"...), nil
}

// newLiveFeed takes the live feed's settings from the configuration, whose
// RequestTimeout is already set. Without a Feed it makes a hub of its own
// that polls the service every second.
func newLiveFeed(svc *app.Service, log zerolog.Logger, cfg Config) (*liveFeed, error) {
	hub := cfg.Feed
	if hub == nil {
		var err error
		if hub, err = feedhub.New(svc, log, feedhub.Config{ReadTimeout: cfg.RequestTimeout}); err != nil {
			return nil, err
		}
	}
	streams, err := newStreamSlots(cfg.FeedStreams, cfg.FeedStreamsPerClient)
	if err != nil {
		return nil, err
	}
	lf := &liveFeed{hub: hub, streams: streams, client: caller, heartbeat: cfg.FeedHeartbeat, closing: cfg.Closing,
		readTimeout: cfg.RequestTimeout, encode: feedMessages(cfg.Cursors)}
	if lf.heartbeat == 0 {
		lf.heartbeat = defaultFeedHeartbeat
	}
	if lf.heartbeat < 0 {
		return nil, fmt.Errorf("httpapi: negative FeedHeartbeat %s", lf.heartbeat)
	}
	return lf, nil
}
