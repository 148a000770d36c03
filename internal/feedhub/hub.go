// Package feedhub shares one reader of the global feed among every live
// subscriber of a process: a tailer reads new events once and fans them
// out, filtering by type in memory; a subscription that starts behind
// catches up on its own, and one that falls too far behind is dropped.
// Every subscriber gets every event after its cursor, in feed order, once.
// See docs/design.md, "Live feeds".
package feedhub

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/orderapi/orderapi/internal/app"
	"github.com/rs/zerolog"
)

// Reader reads pages of the global feed; app.Service is one.
type Reader interface {
	Feed(ctx context.Context, q app.FeedQuery) (app.FeedPage, error)
}

// Config tunes a Hub; the zero value of each field is its default.
type Config struct {
	// Wake, if not nil, subscribes to wake-ups sent after events are
	// appended, so that the tail looks at once rather than at its poll.
	Wake app.Waker
	// Poll is how long the tail waits for a wake-up before it looks
	// anyway, in case one was lost; 1s.
	Poll time.Duration
	// ReadTimeout bounds each read of the feed; 10s.
	ReadTimeout time.Duration
	// Buffer is how many bytes of events (see Event) a subscription may
	// hold untaken before it is dropped; 256 KiB, a few hundred events. A
	// page always fits into an empty buffer, so a subscriber that takes
	// each page before the next is never dropped, whatever the burst.
	Buffer int
	// CatchUps is how many subscriptions may read the feed for themselves
	// at once; 4.
	CatchUps int
	// Page is how many events the tail reads at once, whatever page size
	// a client wants: a subscriber that takes one event at a time must
	// not cost a query per event; app.MaxFeedPage. A catch-up reads about
	// a Buffer's worth (a page of Buffer/1 KiB events, at least 100, at
	// most Page): its page is its subscriber's alone until written.
	Page int
}

// Defaults of Config.
const (
	DefaultPoll        = time.Second
	DefaultReadTimeout = 10 * time.Second
	DefaultBuffer      = 256 << 10
	DefaultCatchUps    = 4
)

var (
	// ErrTooSlow ends a subscription whose buffer overflowed: its
	// consumer did not keep up with the feed. It resumes with a new
	// subscription after the last event it took.
	ErrTooSlow = errors.New("feedhub: subscriber fell too far behind")
	// ErrClosed ends every subscription when the Hub closes. It is
	// app.ErrUnavailable: the service is shutting down; retry elsewhere
	// or later.
	ErrClosed = fmt.Errorf("%w: the live feed is shutting down", app.ErrUnavailable)
)

// Hub is one process's shared tail of the global feed. Its tailer runs
// only while subscriptions have joined it.
type Hub struct {
	feed        Reader
	log         zerolog.Logger
	cfg         Config
	catchUpPage int
	catchUps    chan struct{} // a token per catch-up read under way

	ctx    context.Context // ends at Close: reads in flight stop
	cancel context.CancelFunc
	wg     sync.WaitGroup // the tailer

	mu      sync.Mutex
	live    map[*Subscription]struct{} // joined, fed by the tailer
	tail    app.FeedCursor             // where the tailer reads next; valid while hasTail
	hasTail bool
	gen     uint64 // counts changes of tail made by others than the tailer
	running bool   // a tailer goroutine is running
	closed  bool
	kick    chan struct{} // asks the tailer to look now
}

// New returns a Hub reading feed.
func New(feed Reader, log zerolog.Logger, cfg Config) (*Hub, error) {
	if feed == nil {
		return nil, errors.New("feedhub: New needs a feed")
	}
	if cfg.Poll < 0 || cfg.ReadTimeout < 0 || cfg.Buffer < 0 || cfg.CatchUps < 0 || cfg.Page < 0 || cfg.Page > app.MaxFeedPage {
		return nil, fmt.Errorf("feedhub: setting out of range in %+v", cfg)
	}
	cfg.Poll = orDefault(cfg.Poll, DefaultPoll)
	cfg.ReadTimeout = orDefault(cfg.ReadTimeout, DefaultReadTimeout)
	cfg.Buffer = orDefault(cfg.Buffer, DefaultBuffer)
	cfg.CatchUps = orDefault(cfg.CatchUps, DefaultCatchUps)
	cfg.Page = orDefault(cfg.Page, app.MaxFeedPage)
	catchUpPage := min(cfg.Page, max(app.DefaultFeedPage, cfg.Buffer/eventOverhead))
	ctx, cancel := context.WithCancel(context.Background())
	return &Hub{
		feed: feed, log: log, cfg: cfg, catchUpPage: catchUpPage,
		catchUps: make(chan struct{}, cfg.CatchUps),
		ctx:      ctx, cancel: cancel,
		live: map[*Subscription]struct{}{},
		kick: make(chan struct{}, 1),
	}, nil
}

func orDefault[T comparable](v, def T) T {
	var zero T
	if v == zero {
		return def
	}
	return v
}

// Close ends every subscription with ErrClosed, refuses new ones, and
// waits for the tailer to stop, so that nothing reads the feed after it
// returns.
func (h *Hub) Close() {
	h.mu.Lock()
	if h.closed {
		h.mu.Unlock()
		return
	}
	h.closed = true
	for s := range h.live {
		s.end(ErrClosed)
	}
	clear(h.live)
	h.mu.Unlock()
	h.cancel()
	h.wg.Wait()
}

// join adds a subscription that has read the feed up to s.seen to the
// tail. A tail ahead of s.seen is moved back to it, and read again at
// once: subscriptions already past it skip those events. Moving it
// forward instead could skip events for them.
func (h *Hub) join(s *Subscription) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return ErrClosed
	}
	h.live[s] = struct{}{}
	if h.hasTail && !s.seen.Before(h.tail) {
		return nil
	}
	h.tail, h.hasTail = s.seen, true
	h.gen++
	if !h.running {
		h.running = true
		h.wg.Add(1)
		go h.run()
	} else {
		h.poke()
	}
	return nil
}

// leave removes a subscription; the tailer stops when none is left.
func (h *Hub) leave(s *Subscription) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if _, ok := h.live[s]; !ok {
		return
	}
	delete(h.live, s)
	if len(h.live) == 0 {
		h.poke()
	}
}

// poke wakes the tailer without waiting; a poke pending is enough.
func (h *Hub) poke() {
	select {
	case h.kick <- struct{}{}:
	default:
	}
}
