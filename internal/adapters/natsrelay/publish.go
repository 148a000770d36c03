package natsrelay

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/orderapi/orderapi/internal/adapters/cloudevent"
	"github.com/orderapi/orderapi/internal/app"
)

// traceParentHeader carries an event's W3C trace context, as its
// CloudEvent's traceparent does.
const traceParentHeader = "traceparent"

// relay publishes while this process holds the lock: from the located
// checkpoint, read the feed, publish, record the checkpoint, repeat; wait
// for a wake-up when drained. A failed publish (a guard refused it, NATS
// went away) is followed by locating the checkpoint again, after a
// backoff. It returns when the lock's session is gone.
func (r *Relay) relay(ctx context.Context, js jetstream.JetStream, alive func(context.Context) error) error {
	var wake <-chan struct{}
	if r.cfg.Wake != nil {
		ch, cancel := r.cfg.Wake.Subscribe()
		defer cancel()
		wake = ch
	}
	r.forgetStop()
	b := r.backoff()
	t, err := r.resume(ctx, js, alive, b)
	if err != nil {
		return err
	}
	// refused counts the guard refusals in a row without progress.
	refused := 0
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
		page, err := r.feed.ReadFeed(ctx, app.FeedQuery{After: t.Cursor, Limit: r.cfg.Batch, Sealed: r.cfg.SealPersonalData})
		if err != nil {
			return fmt.Errorf("read the feed after %d/%d: %w", t.Cursor.TransactionID, t.Cursor.Position, err)
		}
		events, bad := readable(page)
		if len(events) > 0 {
			next, err := r.publish(ctx, js, t, events)
			if next != t {
				refused = 0
				if ok, rerr := r.cfg.Checkpoints.Advance(ctx, r.cfg.Stream.Name, next); rerr != nil {
					return rerr
				} else if !ok {
					err = errMoved
				}
			}
			if err != nil {
				if err := r.failed(ctx, alive, b, next, err, &refused); err != nil {
					return err
				}
				if t, err = r.resume(ctx, js, alive, b); err != nil {
					return err
				}
				continue
			}
			b.reset()
			t = next
		}
		if bad != nil {
			r.stopped(ctx, alive, unreadable(*bad))
			moved, err := r.awaitDecision(ctx, t.Epoch)
			if err != nil {
				return err
			}
			if moved {
				// An operator resumed (past the event, maybe): go on from
				// the record, not from what this process knew.
				r.forgetStop()
				if t, err = r.resume(ctx, js, alive, b); err != nil {
					return err
				}
			}
			continue
		}
		if err := r.going(ctx); err != nil {
			return err
		}
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

// resume locates the checkpoint, retrying while it cannot: with a growing
// backoff while NATS does not answer; while the stream disagrees with the
// checkpoint, as soon as an operator resumes (or every StalledRetry); at
// once when the checkpoint moved under it; every Poll while the feed does
// not show yet events the stream holds, which is no stop. Each stop is
// recorded. It returns early only when the lock's session is gone.
func (r *Relay) resume(ctx context.Context, js jetstream.JetStream, alive func(context.Context) error, b *backoff) (app.BrokerCheckpoint, error) {
	behind := false
	for {
		lctx, cancel := context.WithTimeout(ctx, r.cfg.AckWait)
		t, err := r.locate(lctx, js)
		cancel()
		if err == nil {
			return t, nil
		}
		if ctx.Err() != nil {
			return t, ctx.Err()
		}
		var mm *mismatch
		switch {
		case errors.Is(err, errMoved):
		case errors.Is(err, errFeedBehind):
			if !behind {
				r.log.Info().Err(err).Msg("nats relay waits for the feed to show the events of the stream's messages after its checkpoint")
				behind = true
			}
			if err := sleep(ctx, r.cfg.Poll); err != nil {
				return t, err
			}
		case errors.As(err, &mm):
			r.stopped(ctx, alive, r.stallOf(err))
			if _, err := r.awaitDecision(ctx, t.Epoch); err != nil {
				return t, err
			}
		default:
			r.stopped(ctx, alive, r.stallOf(err))
			wait := b.next()
			r.log.Warn().Err(err).Dur("retry_in", wait).Msg("nats relay cannot locate its checkpoint in the stream")
			if err := sleep(ctx, wait); err != nil {
				return t, err
			}
		}
		if err := alive(ctx); err != nil {
			return t, fmt.Errorf("the relay's lock session: %w", err)
		}
	}
}

// guardRefusals is how many guard refusals in a row, each followed by a
// stream that agrees with the checkpoint, make the relay report the stream
// unusable: a stream in a state its server cannot place the next message
// in (a purge past its last sequence, say).
const guardRefusals = 3

// failed handles a failed publish: it records why, where that is a stop,
// and waits before the relay locates its checkpoint again: not at all
// when the checkpoint moved or the stream held the message already, until
// an operator decides at a mismatch, with a growing backoff otherwise.
func (r *Relay) failed(ctx context.Context, alive func(context.Context) error, b *backoff, t app.BrokerCheckpoint, err error, refused *int) error {
	var mm *mismatch
	switch {
	case errors.Is(err, errMoved), errors.Is(err, errResync):
		return nil
	case errors.As(err, &mm):
		r.stopped(ctx, alive, r.stallOf(err))
		_, err := r.awaitDecision(ctx, t.Epoch)
		return err
	case guardFailed(err):
		if *refused++; *refused >= guardRefusals {
			r.stopped(ctx, alive, app.ProjectionStall{Code: StopStreamUnusable, Reason: fmt.Sprintf(
				"stream %s refused the relay's sequence guard %d times in a row while agreeing with its checkpoint (message %d): %v; "+
					"its server cannot place a message after its last sequence (a purge past it leaves it so): restart that server, "+
					"or delete the stream and run `orderapi nats resume` once the relay has made it again",
				r.cfg.Stream.Name, *refused, t.Sequence, err)})
		}
	default:
		r.stopped(ctx, alive, r.stallOf(err))
	}
	wait := b.next()
	r.log.Warn().Err(err).Dur("retry_in", wait).Msg("nats relay publish failed; locating its checkpoint again")
	return sleep(ctx, wait)
}

// awaitDecision waits, at a stop only an operator can end, until an
// operator's resume moved the checkpoint's epoch on from epoch (moved is
// true), or StalledRetry passed, looking at the record every Poll.
func (r *Relay) awaitDecision(ctx context.Context, epoch int64) (moved bool, err error) {
	for deadline := time.Now().Add(r.cfg.StalledRetry); ; {
		left := time.Until(deadline)
		if left <= 0 {
			return false, nil
		}
		if err := sleep(ctx, min(left, r.cfg.Poll)); err != nil {
			return false, err
		}
		if st, err := r.cfg.Checkpoints.Load(ctx, r.cfg.Stream.Name); err == nil && st.Checkpoint.Epoch != epoch {
			return true, nil
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

// errResync: the stream held a message the relay sent (answered as a
// duplicate) elsewhere than where it expected it; the rest of the batch
// was refused, and the relay locates its place again at once.
var errResync = errors.New("natsrelay: the stream already held a message; locating the checkpoint again")

// publish publishes events after t, pipelined: up to Window at a time,
// then waits for their acknowledgements in order. The first message is
// guarded by the stream sequence it must follow (t's); each later one by
// its sequence and by the previous message's id too, so that once one
// message is refused (the stream moved: someone else published), no later
// one can be stored after it. It returns the checkpoint after the last
// acknowledged, and the first failure: a guard failed, the stream refused
// a message, or NATS did not answer.
func (r *Relay) publish(ctx context.Context, js jetstream.JetStream, t app.BrokerCheckpoint, events []app.RecordedEvent) (app.BrokerCheckpoint, error) {
	for len(events) > 0 {
		chunk := events[:min(len(events), r.cfg.Window)]
		events = events[len(chunk):]
		futures := make([]jetstream.PubAckFuture, 0, len(chunk))
		var sendErr error
		for i, e := range chunk {
			if err := r.sealable(e); err != nil {
				sendErr = err
				break
			}
			msg, err := r.message(e)
			if err != nil {
				sendErr = err
				break
			}
			opts := []jetstream.PublishOpt{jetstream.WithMsgID(e.EventID.String()),
				jetstream.WithExpectStream(r.cfg.Stream.Name), jetstream.WithExpectLastSequence(t.Sequence + uint64(i))}
			if i > 0 {
				opts = append(opts, jetstream.WithExpectLastMsgID(chunk[i-1].EventID.String()))
			}
			f, err := js.PublishMsgAsync(msg, opts...)
			if err != nil {
				sendErr = fmt.Errorf("publish event %s: %w", e.EventID, err)
				break
			}
			futures = append(futures, f)
		}
		for i, f := range futures {
			select {
			case <-ctx.Done():
				return t, ctx.Err()
			case err := <-f.Err():
				return t, publishErr(fmt.Errorf("publish event %s: %w", chunk[i].EventID, err))
			case ack := <-f.Ok():
				if ack.Duplicate {
					var err error
					if t, err = r.duplicate(ctx, js, t, chunk[i], ack.Sequence); err != nil {
						return t, err
					}
					continue
				}
				t = app.BrokerCheckpoint{Cursor: app.CursorOf(chunk[i]), EventID: chunk[i].EventID, Sequence: ack.Sequence, Epoch: t.Epoch}
				r.published.Add(1)
			}
		}
		if sendErr != nil {
			return t, sendErr
		}
	}
	return t, nil
}

// duplicate handles a message the stream answered as a duplicate: it
// already holds one with e's id, at seq. That one must be exactly what
// the relay publishes for e; if so and it is where e goes next (someone
// published a faithful copy), it is e's message, and the batch goes on;
// if it is before that (an operator resumed before what the stream
// holds), e counts as published but the batch's later guards fail. A
// message that differs is a mismatch: e cannot be published while
// JetStream remembers its id.
func (r *Relay) duplicate(ctx context.Context, js jetstream.JetStream, t app.BrokerCheckpoint, e app.RecordedEvent, seq uint64) (app.BrokerCheckpoint, error) {
	s, err := js.Stream(ctx, r.cfg.Stream.Name)
	if err != nil {
		return t, streamErr(fmt.Errorf("look up stream %s: %w", r.cfg.Stream.Name, err))
	}
	m, err := s.GetMsg(ctx, seq)
	if err != nil {
		return t, streamErr(fmt.Errorf("read stream %s's message %d, which holds event %s's id: %w", r.cfg.Stream.Name, seq, e.EventID, err))
	}
	if err := r.same(ctx, m, e); err != nil {
		return t, mismatchf("stream %s already holds a message with event %s's id (message %d), and it is not what the relay publishes for that event: %v; "+
			"JetStream refuses the event's own message while it remembers that id (the duplicate window, %s)",
			r.cfg.Stream.Name, e.EventID, seq, err, r.cfg.Stream.DuplicateWindow)
	}
	if seq == t.Sequence+1 {
		return app.BrokerCheckpoint{Cursor: app.CursorOf(e), EventID: e.EventID, Sequence: seq, Epoch: t.Epoch}, nil
	}
	t.Cursor = app.CursorOf(e)
	return t, errResync
}

// message is the message the relay publishes for e.
func (r *Relay) message(e app.RecordedEvent) (*nats.Msg, error) {
	body, err := r.cfg.Encode(e)
	if err != nil {
		return nil, fmt.Errorf("encode event %s: %w", e.EventID, err)
	}
	msg := nats.NewMsg(r.subject(e))
	msg.Data = body
	msg.Header.Set("Content-Type", cloudevent.ContentType)
	// The request's trace travels on, for consumers that read headers
	// rather than the CloudEvent's attributes.
	if tp := cloudevent.TraceParent(e.Metadata); tp != "" {
		msg.Header.Set(traceParentHeader, tp)
	}
	return msg, nil
}
