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
	r.stop.mu.Lock()
	r.stop.unknown = true
	r.stop.mu.Unlock()
	b := r.backoff()
	t, err := r.resume(ctx, js, alive, b)
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
		page, err := r.feed.ReadFeed(ctx, app.FeedQuery{After: t.Cursor, Limit: r.cfg.Batch})
		if err != nil {
			return fmt.Errorf("read the feed after %d/%d: %w", t.Cursor.TransactionID, t.Cursor.Position, err)
		}
		events, bad := readable(page)
		if len(events) > 0 {
			next, err := r.publish(ctx, js, t, events)
			if next != t {
				if ok, rerr := r.cfg.Checkpoints.Advance(ctx, r.cfg.Stream.Name, next); rerr != nil {
					return rerr
				} else if !ok {
					err = errMoved
				}
			}
			if err != nil {
				if !guardFailed(err) && !errors.Is(err, errMoved) {
					r.stopped(ctx, r.stallOf(err))
				}
				wait := b.next()
				r.log.Warn().Err(err).Dur("retry_in", wait).Msg("nats relay publish failed; locating its checkpoint again")
				if err := sleep(ctx, wait); err != nil {
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
			r.stopped(ctx, unreadable(*bad))
			if err := sleep(ctx, r.cfg.StalledRetry); err != nil {
				return err
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
// once when the checkpoint moved under it. Each reason is recorded. It returns early
// only when the lock's session is gone.
func (r *Relay) resume(ctx context.Context, js jetstream.JetStream, alive func(context.Context) error, b *backoff) (app.BrokerCheckpoint, error) {
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
		case errors.As(err, &mm):
			r.stopped(ctx, r.stallOf(err))
			if err := r.awaitDecision(ctx, t.Epoch); err != nil {
				return t, err
			}
		default:
			r.stopped(ctx, r.stallOf(err))
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

// awaitDecision waits, after a mismatch, until an operator's resume moved
// the checkpoint's epoch on from epoch, or StalledRetry passed, looking
// at the record every Poll.
func (r *Relay) awaitDecision(ctx context.Context, epoch int64) error {
	for deadline := time.Now().Add(r.cfg.StalledRetry); ; {
		left := time.Until(deadline)
		if left <= 0 {
			return nil
		}
		if err := sleep(ctx, min(left, r.cfg.Poll)); err != nil {
			return err
		}
		if st, err := r.cfg.Checkpoints.Load(ctx, r.cfg.Stream.Name); err == nil && st.Checkpoint.Epoch != epoch {
			return nil
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

// publish publishes events after t, pipelined: up to Window at a time,
// each guarded by the stream sequence it must follow (t's, then one more
// for each before it), then waits for their acknowledgements in order. It
// returns the checkpoint after the last acknowledged, and the first
// failure: a guard failed, the stream refused a message, or NATS did not
// answer. A message the stream already holds (acknowledged as a
// duplicate) counts as published, and leaves the sequence where it was.
func (r *Relay) publish(ctx context.Context, js jetstream.JetStream, t app.BrokerCheckpoint, events []app.RecordedEvent) (app.BrokerCheckpoint, error) {
	for len(events) > 0 {
		chunk := events[:min(len(events), r.cfg.Window)]
		events = events[len(chunk):]
		futures := make([]jetstream.PubAckFuture, 0, len(chunk))
		var sendErr error
		for i, e := range chunk {
			body, err := r.cfg.Encode(e)
			if err != nil {
				sendErr = fmt.Errorf("encode event %s: %w", e.EventID, err)
				break
			}
			msg := nats.NewMsg(r.subject(e))
			msg.Data = body
			msg.Header.Set("Content-Type", cloudevent.ContentType)
			// The request's trace travels on, for consumers that read
			// headers rather than the CloudEvent's attributes.
			if tp := cloudevent.TraceParent(e.Metadata); tp != "" {
				msg.Header.Set(traceParentHeader, tp)
			}
			f, err := js.PublishMsgAsync(msg, jetstream.WithMsgID(e.EventID.String()),
				jetstream.WithExpectStream(r.cfg.Stream.Name), jetstream.WithExpectLastSequence(t.Sequence+uint64(i)))
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
					// Already held, at ack.Sequence (an operator resumed
					// before what the stream holds): the stream did not
					// move, so the guards of the rest of the chunk fail,
					// and the relay locates its checkpoint again.
					t.Cursor = app.CursorOf(chunk[i])
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
