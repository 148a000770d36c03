package natsrelay

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/orderapi/orderapi/internal/adapters/cloudevent"
	"github.com/orderapi/orderapi/internal/app"
)

// tail is the stream's last message as the relay reads it: the feed
// cursor after it, its Nats-Msg-Id (the event id the next publish
// expects) and its stream sequence. The zero tail is an empty stream: the
// feed's start. bySeq says to guard the next publish by the sequence
// rather than the id: a server restarted after the duplicate window
// passed has forgotten the last message's id, and refuses every guard by
// id until a message is stored by another guard.
type tail struct {
	cursor app.FeedCursor
	lastID string
	seq    uint64
	bySeq  bool
}

// errLostTail: the stream has had messages but holds none to resume from.
var errLostTail = errors.New("natsrelay: the stream's last message is gone (expired or removed), so where to resume is unknown; the relay publishes nothing until it can read it")

// readTail reads the stream's last message: its Nats-Msg-Id and the feed
// cursor its body's orderapitxid and orderapiposition extensions carry.
func (r *Relay) readTail(ctx context.Context, js jetstream.JetStream) (tail, error) {
	s, err := js.Stream(ctx, r.cfg.Stream.Name)
	if err != nil {
		return tail{}, fmt.Errorf("look up stream %s: %w", r.cfg.Stream.Name, err)
	}
	info, err := s.Info(ctx)
	if err != nil {
		return tail{}, fmt.Errorf("stream %s info: %w", r.cfg.Stream.Name, err)
	}
	if err := sameSubjects(r.cfg.Stream, info.Config.Subjects); err != nil {
		return tail{}, err
	}
	if info.State.LastSeq == 0 {
		r.known.Store(&seen{})
		return tail{}, nil
	}
	m, err := s.GetMsg(ctx, info.State.LastSeq)
	if errors.Is(err, jetstream.ErrMsgNotFound) {
		return tail{}, fmt.Errorf("%w (sequence %d)", errLostTail, info.State.LastSeq)
	}
	if err != nil {
		return tail{}, fmt.Errorf("read stream %s's last message: %w", r.cfg.Stream.Name, err)
	}
	t, err := tailOf(m)
	t.seq = m.Sequence
	if err != nil {
		return tail{}, fmt.Errorf("stream %s's last message (sequence %d): %w", r.cfg.Stream.Name, m.Sequence, err)
	}
	r.known.Store(&seen{cursor: t.cursor, at: m.Time})
	return t, nil
}

// tailOf reads the cursor and event id a published message carries.
func tailOf(m *jetstream.RawStreamMsg) (tail, error) {
	var ext struct {
		TxID     string `json:"orderapitxid"`
		Position string `json:"orderapiposition"`
	}
	if err := json.Unmarshal(m.Data, &ext); err != nil {
		return tail{}, fmt.Errorf("not a CloudEvent the relay published: %w", err)
	}
	tx, err1 := strconv.ParseUint(ext.TxID, 10, 64)
	pos, err2 := strconv.ParseInt(ext.Position, 10, 64)
	id := m.Header.Get(jetstream.MsgIDHeader)
	if err1 != nil || err2 != nil || id == "" {
		return tail{}, fmt.Errorf("not a message the relay published: orderapitxid %q, orderapiposition %q, Nats-Msg-Id %q", ext.TxID, ext.Position, id)
	}
	return tail{cursor: app.FeedCursor{TransactionID: tx, Position: pos}, lastID: id}, nil
}

// relay publishes while this process holds the lock: from the stream's
// tail, read the feed, publish, repeat; wait for a wake-up when drained.
// A failed publish (a guard refused it, NATS went away) is followed by
// reading the tail again, after a backoff: the stream, not this process,
// says what is published. It returns when the lock's session is gone.
func (r *Relay) relay(ctx context.Context, js jetstream.JetStream, alive func(context.Context) error) error {
	var wake <-chan struct{}
	if r.cfg.Wake != nil {
		ch, cancel := r.cfg.Wake.Subscribe()
		defer cancel()
		wake = ch
	}
	b := r.backoff()
	t, err := r.resync(ctx, js, alive, b)
	if err != nil {
		return err
	}
	follow := app.NewFeedFollower(r.cfg.Poll, false)
	timer := newStoppedTimer()
	defer timer.Stop()
	var checked time.Time
	for {
		if now := time.Now(); now.Sub(checked) >= r.cfg.AliveEvery {
			if err := alive(ctx); err != nil {
				return fmt.Errorf("the relay's lock session: %w", err)
			}
			checked = now
		}
		page, err := r.feed.ReadFeed(ctx, app.FeedQuery{After: t.cursor, Limit: r.cfg.Batch})
		if err != nil {
			return fmt.Errorf("read the feed after %d/%d: %w", t.cursor.TransactionID, t.cursor.Position, err)
		}
		events, unreadable := readable(page)
		if len(events) > 0 {
			next, err := r.publish(ctx, js, t, events)
			if err != nil {
				wait := b.next()
				r.log.Warn().Err(err).Dur("retry_in", wait).Msg("nats relay publish failed; reading the stream's tail again")
				if err := sleep(ctx, wait); err != nil {
					return err
				}
				old := t
				if t, err = r.resync(ctx, js, alive, b); err != nil {
					return err
				}
				// The stream did not move, yet refused the guard: its
				// server forgot the last id (a restart). The sequence
				// guard is as exact, and the server keeps it.
				t.bySeq = t.cursor == old.cursor && t.lastID == old.lastID && t.lastID != ""
				continue
			}
			b.reset()
			t = next
		}
		if unreadable != nil {
			r.stall(*unreadable)
			if err := sleep(ctx, r.cfg.StalledRetry); err != nil {
				return err
			}
			continue
		}
		r.stalled.Store(nil)
		if len(page) == r.cfg.Batch {
			continue
		}
		timer.Reset(follow.Wait(len(page) == 0))
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-wake:
			follow.Woken()
			if r.cfg.Linger > 0 {
				if err := sleep(ctx, r.cfg.Linger); err != nil {
					return err
				}
			}
		case <-timer.C:
		}
	}
}

// resync reads the stream's tail, retrying with backoff while NATS does
// not answer; it returns early only when the lock's session is gone.
func (r *Relay) resync(ctx context.Context, js jetstream.JetStream, alive func(context.Context) error, b *backoff) (tail, error) {
	for {
		t, err := r.readTail(ctx, js)
		if err == nil {
			return t, nil
		}
		if ctx.Err() != nil {
			return tail{}, ctx.Err()
		}
		wait := b.next()
		r.log.Warn().Err(err).Dur("retry_in", wait).Msg("nats relay cannot read the stream's tail")
		if err := sleep(ctx, wait); err != nil {
			return tail{}, err
		}
		if err := alive(ctx); err != nil {
			return tail{}, fmt.Errorf("the relay's lock session: %w", err)
		}
	}
}

// readable is events up to the first one this build cannot decode, and
// that one: the relay stops before it, never around it.
func readable(events []app.RecordedEvent) ([]app.RecordedEvent, *app.RecordedEvent) {
	for i, e := range events {
		if e.Unreadable {
			return events[:i], &events[i]
		}
	}
	return events, nil
}

// stall records and logs, once per event, that the relay stopped before
// an event it cannot decode.
func (r *Relay) stall(e app.RecordedEvent) {
	if s := r.stalled.Load(); s != nil && s.EventID == e.EventID {
		return
	}
	s := app.ProjectionStall{EventID: e.EventID, Position: e.Position, Since: timeNow().UTC(),
		Reason: fmt.Sprintf("%s schema version %d cannot be decoded by this build", e.Type, e.SchemaVersion)}
	r.stalled.Store(&s)
	r.log.Error().Str("event_id", e.EventID.String()).Int64("position", e.Position).
		Msg("nats relay stopped: it cannot decode this event; run a build that can (orderapi check names every such event)")
}

// Stalled returns the event the relay is stopped before in this process,
// nil when it is not stopped.
func (r *Relay) Stalled(context.Context) (*app.ProjectionStall, error) { return r.stalled.Load(), nil }

// publish publishes events after t, pipelined: up to Window at a time,
// each guarded by the previous one's id (the first of an empty stream by
// sequence 0, the first after t.bySeq by t's sequence), then waits for
// their acknowledgements in order. It returns
// the tail after the last acknowledged, or the first failure: a guard
// failed, or NATS did not answer. A message the stream already holds
// (acknowledged as a duplicate) counts as published.
func (r *Relay) publish(ctx context.Context, js jetstream.JetStream, t tail, events []app.RecordedEvent) (tail, error) {
	for len(events) > 0 {
		chunk := events[:min(len(events), r.cfg.Window)]
		events = events[len(chunk):]
		futures := make([]jetstream.PubAckFuture, 0, len(chunk))
		var sendErr error
		prev, bySeq := t.lastID, t.bySeq
		for _, e := range chunk {
			body, err := r.cfg.Encode(e)
			if err != nil {
				sendErr = fmt.Errorf("encode event %s: %w", e.EventID, err)
				break
			}
			msg := nats.NewMsg(r.subject(e))
			msg.Data = body
			msg.Header.Set("Content-Type", cloudevent.ContentType)
			id := e.EventID.String()
			opts := []jetstream.PublishOpt{jetstream.WithMsgID(id), jetstream.WithExpectStream(r.cfg.Stream.Name)}
			switch {
			case prev == "":
				opts = append(opts, jetstream.WithExpectLastSequence(0))
			case bySeq:
				opts = append(opts, jetstream.WithExpectLastSequence(t.seq))
				bySeq = false
			default:
				opts = append(opts, jetstream.WithExpectLastMsgID(prev))
			}
			f, err := js.PublishMsgAsync(msg, opts...)
			if err != nil {
				sendErr = fmt.Errorf("publish event %s: %w", id, err)
				break
			}
			futures = append(futures, f)
			prev = id
		}
		for i, f := range futures {
			select {
			case <-ctx.Done():
				return t, ctx.Err()
			case err := <-f.Err():
				return t, fmt.Errorf("publish event %s: %w", chunk[i].EventID, err)
			case ack := <-f.Ok():
				t = tail{cursor: app.CursorOf(chunk[i]), lastID: chunk[i].EventID.String(), seq: ack.Sequence}
				r.known.Store(&seen{cursor: t.cursor, at: timeNow()})
				if !ack.Duplicate {
					r.published.Add(1)
				}
			}
		}
		if sendErr != nil {
			return t, sendErr
		}
	}
	return t, nil
}
