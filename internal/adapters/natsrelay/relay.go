// Package natsrelay publishes every stored event to a NATS JetStream
// stream, in global-feed order, exactly once, from one replica at a time.
// The events table is the outbox. The relay's checkpoint is kept in the
// database (Checkpoints): it resumes from there, takes what the stream
// holds after it only where that is the feed's own continuation, and
// publishes each event guarded by the stream sequence it must follow and,
// within a batch, by the previous event's id. See docs/design.md, "The
// broker relay".
package natsrelay

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/google/uuid"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/orderapi/orderapi/internal/app"
	"github.com/rs/zerolog"
)

// Name is the relay's name among the projections (GET /v1/projections,
// the lag metrics).
const Name = "nats"

// Defaults of Config.
const (
	defaultBatch        = 500
	defaultWindow       = 128
	defaultPoll         = time.Second
	defaultStalledRetry = 30 * time.Second
	defaultMaxBackoff   = 30 * time.Second
	defaultAckWait      = 10 * time.Second
	defaultLinger       = 10 * time.Millisecond
	defaultAliveEvery   = time.Second
)

// Feed reads the global feed, gap-free, and finds a stored event's place
// in it, shown yet or not; eventstore.Store does.
type Feed interface {
	app.EventFeed
	// EventCursor is the feed cursor of event id; false when no such
	// event is stored. The feed may not show it yet: it holds back the
	// events of transactions above its watermark.
	EventCursor(ctx context.Context, id uuid.UUID) (app.FeedCursor, bool, error)
}

// Elector runs work in one process at a time; a postgres.Lock does.
type Elector interface {
	RunChecked(ctx context.Context, work func(ctx context.Context, alive func(context.Context) error) error) error
	Held() bool
}

// Checkpoints keeps the relay's checkpoint and stop record, per stream;
// relaystate.Store does.
type Checkpoints interface {
	Load(ctx context.Context, stream string) (app.BrokerState, error)
	Advance(ctx context.Context, stream string, cp app.BrokerCheckpoint) (bool, error)
	Stop(ctx context.Context, stream string, st app.ProjectionStall) error
	Clear(ctx context.Context, stream string) error
}

// Lagger tells how far a cursor is behind the feed's head;
// eventstore.Store does.
type Lagger interface {
	FeedLag(ctx context.Context, c app.FeedCursor) (int64, time.Duration, error)
}

// Config wires and tunes a Relay.
type Config struct {
	// URL is the NATS server (nats://host:4222, or several, comma
	// separated).
	URL string
	// Stream is the stream published to.
	Stream StreamConfig
	// Encode is each message's body: a CloudEvent. It must give the same
	// bytes for the same event: the relay compares what the stream holds
	// after its checkpoint with what it would publish.
	Encode func(app.RecordedEvent) ([]byte, error)
	// PersonalFields names the members of an event type's data, at a
	// schema version, that hold personal data (codec.PersonalFields): an
	// erasure makes them null, and the relay recognises by them a message
	// of an event published before its customer's erasure.
	PersonalFields func(eventType string, schemaVersion int) []string
	// SealPersonalData publishes personal data as the store keeps it,
	// sealed (app.FeedQuery.Sealed), not in clear: an erasure then
	// reaches the messages in the stream too, and consumers read the
	// clear values from the API. An event whose personal data is stored
	// in clear, from before sealing began, stops the relay
	// (StopPersonalDataInClear) until it is sealed.
	SealPersonalData bool
	// Checkpoints keeps the checkpoint and the stop record.
	Checkpoints Checkpoints
	// Wake, if not nil, wakes the relay after appends; else it polls.
	Wake app.Waker
	// Lag, if not nil, lets Progress report the lag.
	Lag Lagger
	// Batch is the most events read from the feed at once; 500 if zero.
	Batch int
	// Window is the most publishes awaiting their acknowledgement; 128
	// if zero.
	Window int
	// Poll is how long an idle relay waits before it reads the feed
	// anyway; 1s if zero.
	Poll time.Duration
	// StalledRetry is how often a relay stopped where an operator must
	// decide (before an unreadable event, at a stream that disagrees with
	// its checkpoint) looks again, besides every Poll at the record for
	// an operator's resume; 30s if zero.
	StalledRetry time.Duration
	// MaxBackoff bounds the growing wait after a NATS failure; 30s if zero.
	MaxBackoff time.Duration
	// AckWait bounds the wait for a publish's acknowledgement; 10s if zero.
	AckWait time.Duration
	// Linger is how long a woken relay waits before it reads, so that the
	// appends of a busy moment cost one read and one batch of publishes;
	// 10ms if zero, none if negative.
	Linger time.Duration
	// AliveEvery is how often the relay asks whether its lock's session
	// still holds; 1s if zero. Publishing after the session is gone
	// cannot double a message (the guards refuse it); checking costs a
	// round trip.
	AliveEvery time.Duration
}

// Relay publishes the global feed to the stream. Run it in every replica:
// the one holding the lock publishes.
type Relay struct {
	feed Feed
	lock Elector
	log  zerolog.Logger
	cfg  Config

	nc atomic.Pointer[nats.Conn]
	// stop is the stop record as this process last wrote it, so that it
	// is written once per reason.
	stop stopRecord
	// last is what Progress last found.
	last atomic.Pointer[app.ProjectionStatus]
	// published counts the messages the stream stored from this relay
	// (not those it answered as duplicates).
	published atomic.Int64
}

// New returns a relay over the feed, elected by lock.
func New(feed Feed, lock Elector, log zerolog.Logger, cfg Config) (*Relay, error) {
	if feed == nil || lock == nil || cfg.Encode == nil || cfg.PersonalFields == nil || cfg.Checkpoints == nil {
		return nil, errors.New("natsrelay: New needs a feed, a lock, Config.Encode, Config.PersonalFields and Config.Checkpoints")
	}
	if cfg.URL == "" {
		return nil, errors.New("natsrelay: New needs Config.URL")
	}
	if cfg.Batch < 0 || cfg.Window < 0 || cfg.Poll < 0 || cfg.StalledRetry < 0 || cfg.MaxBackoff < 0 || cfg.AckWait < 0 || cfg.AliveEvery < 0 {
		return nil, fmt.Errorf("natsrelay: negative Config value")
	}
	if cfg.Batch > app.MaxFeedPage {
		cfg.Batch = app.MaxFeedPage
	}
	cfg.Stream = cfg.Stream.withDefaults()
	cfg.Batch = cmp.Or(cfg.Batch, defaultBatch)
	cfg.Window = cmp.Or(cfg.Window, defaultWindow)
	cfg.Poll = cmp.Or(cfg.Poll, defaultPoll)
	cfg.StalledRetry = cmp.Or(cfg.StalledRetry, defaultStalledRetry)
	cfg.MaxBackoff = cmp.Or(cfg.MaxBackoff, defaultMaxBackoff)
	cfg.AckWait = cmp.Or(cfg.AckWait, defaultAckWait)
	cfg.Linger = cmp.Or(cfg.Linger, defaultLinger)
	cfg.AliveEvery = cmp.Or(cfg.AliveEvery, defaultAliveEvery)
	return &Relay{feed: feed, lock: lock, log: log.With().Str("projection", Name).Logger(), cfg: cfg}, nil
}

// HeldConns is how many of the pool's connections a running relay keeps:
// the session holding its lock, in the replica that holds it.
func (r *Relay) HeldConns() int { return 1 }

// HoldsLock reports whether this process publishes now.
func (r *Relay) HoldsLock() bool { return r.lock.Held() }

// Published counts the messages the stream stored from this process's
// relay; one it answered as a duplicate is not counted.
func (r *Relay) Published() int64 { return r.published.Load() }

// Run connects to NATS (retrying in the background while it cannot),
// then competes for the lock and, holding it, makes sure the stream
// exists and publishes, until ctx ends. NATS down or slow only delays it:
// the relay records why it waits, retries with a growing backoff and
// catches up.
func (r *Relay) Run(ctx context.Context) error {
	nc, err := Connect(r.cfg.URL, "orderapi relay")
	if err != nil {
		return err
	}
	defer nc.Close()
	r.nc.Store(nc)
	js, err := jetstream.New(nc, jetstream.WithPublishAsyncMaxPending(r.cfg.Window+1),
		jetstream.WithPublishAsyncTimeout(r.cfg.AckWait))
	if err != nil {
		return fmt.Errorf("natsrelay: %w", err)
	}
	return r.lock.RunChecked(ctx, func(ctx context.Context, alive func(context.Context) error) error {
		return r.relay(ctx, js, alive)
	})
}

// Connect connects to the NATS servers at url, and keeps reconnecting
// for as long as the connection is open: a server that is down at first
// is waited for, and one that refuses the credentials is asked again (its
// accounts may be fixed without restarting orderapi).
func Connect(url, name string) (*nats.Conn, error) {
	nc, err := nats.Connect(url, nats.Name(name), nats.RetryOnFailedConnect(true),
		nats.MaxReconnects(-1), nats.ReconnectWait(time.Second), nats.IgnoreAuthErrorAbort())
	if err != nil {
		return nil, fmt.Errorf("natsrelay: connect to %s: %w", url, err)
	}
	return nc, nil
}

// subject is where an event goes: <prefix>.<Type>.<order_id>.
func (r *Relay) subject(e app.RecordedEvent) string {
	return r.cfg.Stream.SubjectPrefix + "." + e.Type + "." + e.OrderID.String()
}

// backoff is a growing wait: 100ms doubling to MaxBackoff.
type backoff struct{ at, limit time.Duration }

func (r *Relay) backoff() *backoff { return &backoff{limit: r.cfg.MaxBackoff} }

func (b *backoff) next() time.Duration {
	b.at = min(max(b.at*2, 100*time.Millisecond), b.limit)
	return b.at
}

func (b *backoff) reset() { b.at = 0 }

// sleep waits d or until ctx ends.
func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
