package notify

import (
	"context"
	"fmt"
	"maps"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/orderapi/orderapi/internal/adapters/postgres"
	"github.com/rs/zerolog"
)

// Channel is the channel an Announcer signals after appends commit.
const Channel = "orderapi_events"

// Reconnection delays of a Listener that lost its connection. A replica
// is out of rotation while its Listener does not listen (Ready), so it
// tries again every few seconds at least.
const (
	listenRetryMin = 100 * time.Millisecond
	listenRetryMax = 5 * time.Second
)

// The heartbeat of a Listener's session (see SetHeartbeat): after
// DefaultHeartbeatEvery without a notification it asks the session, which
// must answer within DefaultHeartbeatWait. A session whose connection
// stays open but delivers nothing (a network that silently drops its
// packets, a server process stopped) is so found out within their sum.
const (
	DefaultHeartbeatEvery = 5 * time.Second
	DefaultHeartbeatWait  = 3 * time.Second
)

// Listener turns the database's notifications of appended events into
// wake-ups for the readers of the global feed, so that a live reader looks
// as soon as something committed instead of at its next poll.
//
// A wake-up carries no data and is only a hint: readers read the feed after
// their cursor, and poll besides, so a lost wake-up costs latency, never an
// event.
//
// The same session listens on the further channels given to Handle, and
// hands their notifications to their handlers: one connection, and one
// reconnection, for every channel a replica hears.
type Listener struct {
	pool *pgxpool.Pool
	log  zerolog.Logger
	// every and wait are the heartbeat's (SetHeartbeat), set before Run.
	every, wait time.Duration

	// listening is whether a session listens, its handlers told.
	listening atomic.Bool
	// listened is closed once a session first listens.
	listened     chan struct{}
	listenedOnce sync.Once

	mu   sync.Mutex
	subs map[chan struct{}]struct{}
	// handlers are the further channels' (Handle), set before Run.
	handlers map[string]Handler
}

// Handler hears the notifications of a channel given to Listener.Handle.
// Its methods run on the Listener's goroutine, one at a time: they must
// not block.
type Handler interface {
	// Notified is given the payload of each notification.
	Notified(payload string)
	// Listening is called each time the Listener starts listening, the
	// first time and after a lost connection: notifications sent while
	// no session listened were lost, and the handler must not count on
	// having heard them.
	Listening()
	// Lost is called when a session that listened is lost, or given up
	// for not answering: until Listening is called again, notifications
	// go unheard.
	Lost()
}

// NewListener returns a Listener over the pool. It listens once Run runs.
func NewListener(pool *pgxpool.Pool, log zerolog.Logger) *Listener {
	return &Listener{pool: pool, log: log, every: DefaultHeartbeatEvery, wait: DefaultHeartbeatWait,
		listened: make(chan struct{}), subs: map[chan struct{}]struct{}{}, handlers: map[string]Handler{}}
}

// SetHeartbeat has the Listener ask its session after every without a
// notification, and give the session up when it does not answer within
// wait. Call it before Run; the defaults are DefaultHeartbeatEvery and
// DefaultHeartbeatWait.
func (l *Listener) SetHeartbeat(every, wait time.Duration) {
	if every > 0 {
		l.every = every
	}
	if wait > 0 {
		l.wait = wait
	}
}

// Ready fails while no session listens: before the first does, and from
// when one is lost, or found silent by the heartbeat, until another
// listens. Meanwhile the replica hears nothing the channels carry.
func (l *Listener) Ready(context.Context) error {
	if l.listening.Load() {
		return nil
	}
	return errNotListening
}

// Listened is closed once the Listener first listens.
func (l *Listener) Listened() <-chan struct{} { return l.listened }

// notListening is Ready's failure, with a reason that may be shown to
// whoever asks.
type notListening struct{}

const notListeningReason = "this replica does not listen for the database's notifications " +
	"(its session was lost or stopped answering, and is being renewed): it would not hear of erasures made by other replicas"

func (notListening) Error() string        { return notListeningReason }
func (notListening) PublicReason() string { return notListeningReason }

var errNotListening error = notListening{}

// Handle has the Listener listen on channel too, and hand its
// notifications to h. Call it before Run; a channel has one handler, the
// last given.
func (l *Listener) Handle(channel string, h Handler) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.handlers[channel] = h
}

// Subscribe returns a channel that receives a value after events are
// appended (and whenever the Listener starts listening, since appends may
// have gone unannounced before), and a function that ends the
// subscription. The channel holds one wake-up: a burst of appends while
// the subscriber is busy reads as one, and the Listener never waits for a
// slow subscriber.
func (l *Listener) Subscribe() (wake <-chan struct{}, cancel func()) {
	ch := make(chan struct{}, 1)
	l.mu.Lock()
	l.subs[ch] = struct{}{}
	l.mu.Unlock()
	return ch, func() {
		l.mu.Lock()
		delete(l.subs, ch)
		l.mu.Unlock()
	}
}

// wakeAll wakes every subscriber that has no wake-up pending.
func (l *Listener) wakeAll() {
	l.mu.Lock()
	defer l.mu.Unlock()
	for ch := range l.subs {
		select {
		case ch <- struct{}{}:
		default:
		}
	}
}

// Run listens for appended events on one connection of the pool and wakes
// the subscribers on each notification, until ctx ends; then it returns
// ctx's error. A lost connection, or one that stops answering the
// heartbeat, is replaced after a growing delay, and every subscriber is
// woken once it listens again. A hot standby refuses LISTEN until
// promoted: that is warned of once, then retried quietly.
func (l *Listener) Run(ctx context.Context) error {
	delay := listenRetryMin
	refused := false // a refusal of LISTEN was warned of
	for {
		listened, err := l.listen(ctx)
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if listened {
			delay = listenRetryMin
			refused = false
		}
		// Jitter spreads the replicas out after a database restart.
		wait := delay/2 + rand.N(delay/2+1)
		ev := l.log.Warn()
		if postgres.IsReadOnly(err) {
			if refused {
				ev = l.log.Debug()
			}
			refused = true
		}
		ev.Err(err).Dur("retry_in", wait).Msg("listening for appended events failed")
		if err := postgres.Sleep(ctx, wait); err != nil {
			return err
		}
		delay = min(2*delay, listenRetryMax)
	}
}

// listen runs one session: LISTEN on a pooled connection, then wake-ups
// until the connection fails or ctx ends. listened reports whether LISTEN
// succeeded, which resets the reconnection delay.
func (l *Listener) listen(ctx context.Context) (listened bool, err error) {
	conn, err := l.pool.Acquire(ctx)
	if err != nil {
		return false, fmt.Errorf("acquire a connection: %w", err)
	}
	defer func() {
		// The connection is closed rather than returned: it may be broken,
		// and a healthy one would still carry the LISTEN into another
		// user's session. Release then drops it from the pool.
		closeCtx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		_ = conn.Conn().Close(closeCtx)
		conn.Release()
	}()

	l.mu.Lock()
	handlers := maps.Clone(l.handlers)
	l.mu.Unlock()
	// Channel last: the session then shows LISTEN on it as its query.
	for ch := range handlers {
		if _, err := conn.Exec(ctx, "LISTEN "+pgx.Identifier{ch}.Sanitize()); err != nil {
			return false, fmt.Errorf("listen on %s: %w", ch, err)
		}
	}
	if _, err := conn.Exec(ctx, "LISTEN "+Channel); err != nil {
		return false, fmt.Errorf("listen on %s: %w", Channel, err)
	}
	l.log.Info().Str("channel", Channel).Int("further_channels", len(handlers)).Msg("listening for appended events")
	// Appends committed while no connection listened went unannounced,
	// and so did what the further channels carried.
	l.wakeAll()
	for _, h := range handlers {
		h.Listening()
	}
	l.listening.Store(true)
	l.listenedOnce.Do(func() { close(l.listened) })
	defer func() {
		l.listening.Store(false)
		for _, h := range handlers {
			h.Lost()
		}
	}()
	for {
		n, err := l.next(ctx, conn.Conn())
		if err != nil {
			return true, err
		}
		if h, ok := handlers[n.Channel]; ok {
			h.Notified(n.Payload)
			continue
		}
		l.wakeAll()
	}
}

// next returns the session's next notification. After l.every without
// one it asks the session, with the LISTEN again (a no-op that needs an
// answer, and leaves the session showing LISTEN as its query), and gives
// the session up if no answer comes within l.wait: an open connection
// that delivers nothing would otherwise be waited on for as long as it
// stays open, every notification lost. A timed-out wait leaves the
// connection usable.
func (l *Listener) next(ctx context.Context, conn *pgx.Conn) (*pgconn.Notification, error) {
	for {
		waitCtx, cancel := context.WithTimeout(ctx, l.every)
		n, err := conn.WaitForNotification(waitCtx)
		cancel()
		if err == nil {
			return n, nil
		}
		if ctx.Err() != nil || !pgconn.Timeout(err) {
			return nil, fmt.Errorf("wait for notification: %w", err)
		}
		askCtx, cancel := context.WithTimeout(ctx, l.wait)
		_, err = conn.Exec(askCtx, "LISTEN "+Channel)
		cancel()
		if err != nil {
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			return nil, fmt.Errorf("the session did not answer its heartbeat within %s: %w", l.wait, err)
		}
	}
}

// HeldConns is how many of the pool's connections a running Listener
// keeps: its LISTEN session.
func (l *Listener) HeldConns() int { return 1 }
