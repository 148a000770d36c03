package natsrelay

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/google/uuid"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/orderapi/orderapi/internal/app"
)

// maxUnrecorded bounds how many messages after the checkpoint the relay
// checks on resuming. It records a checkpoint after every batch it
// publishes, so only a crash between a batch's acknowledgements and its
// record leaves messages after it: at most one batch.
const maxUnrecorded = 10_000

// errMoved: the checkpoint moved under the relay (an operator's resume,
// or another relay ahead of it); it locates its place again.
var errMoved = errors.New("natsrelay: the checkpoint moved under the relay")

// mismatch is a stream that disagrees with the relay's checkpoint: the
// relay publishes nothing to it until an operator decides (orderapi nats
// resume).
type mismatch struct{ msg string }

func (m *mismatch) Error() string { return m.msg }

func mismatchf(format string, args ...any) error {
	return &mismatch{msg: fmt.Sprintf(format, args...)}
}

// locate finds where to publish next: the recorded checkpoint, moved past
// the messages the stream holds after it once each is found to be the
// feed's next event exactly (a batch acknowledged but not yet recorded
// when the last holder stopped). A message of an event stored after it
// that the feed holds back is errFeedBehind, to be looked at again; any
// other after it, or a stream behind it, is a mismatch. It creates the
// stream when it is missing.
func (r *Relay) locate(ctx context.Context, js jetstream.JetStream) (app.BrokerCheckpoint, error) {
	name := r.cfg.Stream.Name
	// The record first, the stream's state after: a racing relay moves
	// the stream before its record, so the stream is never seen behind
	// a record read before it.
	st, err := r.cfg.Checkpoints.Load(ctx, name)
	if err != nil {
		return app.BrokerCheckpoint{}, err
	}
	s, err := ensureStream(ctx, js, r.cfg.Stream)
	if err != nil {
		return app.BrokerCheckpoint{}, streamErr(err)
	}
	info := s.CachedInfo()
	last := info.State.LastSeq
	cp := st.Checkpoint
	switch {
	case !st.Taken && last > 0:
		return cp, mismatchf("stream %s already holds messages (last sequence %d) but this database has no checkpoint for it: "+
			"if they are this database's events, run `orderapi nats resume --after <event id>` with the id of the last one it holds; "+
			"to publish every event to it, `orderapi nats resume --from-start`", name, last)
	case !st.Taken:
		// A new stream: publish from the feed's start.
	case last < cp.Sequence:
		return cp, mismatchf("stream %s ends at sequence %d, before the checkpoint's message %d (event %s): "+
			"it was deleted or re-created, or is another server's; to publish every event to it again, "+
			"`orderapi nats resume --from-start`, or `--after <event id>` to go on after an event",
			name, last, cp.Sequence, eventIDOf(cp))
	case last == cp.Sequence:
		if err := r.checkTail(ctx, s, cp); err != nil {
			return cp, err
		}
		return cp, nil
	default:
		if cp, err = r.verifyAfter(ctx, s, cp, last); err != nil {
			return cp, err
		}
	}
	ok, err := r.cfg.Checkpoints.Advance(ctx, name, cp)
	if err != nil {
		return cp, err
	}
	if !ok {
		return cp, errMoved
	}
	return cp, nil
}

// checkTail checks that the stream's last message, when it still holds
// it, is the checkpoint's. One aged out or removed is no obstacle: the
// sequence guard places the next message after it all the same.
func (r *Relay) checkTail(ctx context.Context, s jetstream.Stream, cp app.BrokerCheckpoint) error {
	if cp.Sequence == 0 || cp.EventID == uuid.Nil {
		return nil
	}
	m, err := s.GetMsg(ctx, cp.Sequence)
	if errors.Is(err, jetstream.ErrMsgNotFound) {
		return nil
	}
	if err != nil {
		return streamErr(fmt.Errorf("read stream %s's message %d: %w", r.cfg.Stream.Name, cp.Sequence, err))
	}
	if got := m.Header.Get(jetstream.MsgIDHeader); got != cp.EventID.String() {
		return mismatchf("stream %s's message %d has Nats-Msg-Id %q, but the checkpoint says it is event %s: "+
			"someone else published to it, or it was re-created; see `orderapi nats resume`",
			r.cfg.Stream.Name, cp.Sequence, got, eventIDOf(cp))
	}
	return nil
}

// verifyAfter checks the messages after the checkpoint, up to last, one
// by one against the feed's events after it: each must be exactly what
// the relay would publish (subject, headers, body), or would have
// published before an erasure or in the other form of personal data
// (same). It returns the checkpoint past them; errFeedBehind when the
// feed does not show yet the event of one (heldBack).
func (r *Relay) verifyAfter(ctx context.Context, s jetstream.Stream, cp app.BrokerCheckpoint, last uint64) (app.BrokerCheckpoint, error) {
	name := r.cfg.Stream.Name
	if last-cp.Sequence > maxUnrecorded {
		return cp, mismatchf("stream %s holds %d messages after the checkpoint's %d (event %s), more than the relay ever leaves unrecorded: "+
			"someone else published to it; see `orderapi nats resume`", name, last-cp.Sequence, cp.Sequence, eventIDOf(cp))
	}
	var page []app.RecordedEvent
	for seq := cp.Sequence + 1; seq <= last; seq++ {
		if len(page) == 0 {
			var err error
			page, err = r.feed.ReadFeed(ctx, app.FeedQuery{After: cp.Cursor, Limit: min(r.cfg.Batch, int(last-seq+1)),
				Sealed: r.cfg.SealPersonalData})
			if err != nil {
				return cp, fmt.Errorf("read the feed after %d/%d: %w", cp.Cursor.TransactionID, cp.Cursor.Position, err)
			}
		}
		m, err := s.GetMsg(ctx, seq)
		if errors.Is(err, jetstream.ErrMsgNotFound) {
			return cp, mismatchf("stream %s's message %d, after the checkpoint's %d (event %s), is gone, so whether it was the feed's next event cannot be told; "+
				"see `orderapi nats resume`", name, seq, cp.Sequence, eventIDOf(cp))
		}
		if err != nil {
			return cp, streamErr(fmt.Errorf("read stream %s's message %d: %w", name, seq, err))
		}
		if len(page) == 0 {
			if err := r.heldBack(ctx, m, cp.Cursor); err != nil {
				return cp, err
			}
		}
		if len(page) == 0 || page[0].Unreadable {
			return cp, mismatchf("stream %s's message %d (Nats-Msg-Id %q) follows the checkpoint's message (event %s), but the feed has no event there that the relay would publish: "+
				"someone else published to it; see `orderapi nats resume`", name, seq, m.Header.Get(jetstream.MsgIDHeader), eventIDOf(cp))
		}
		e := page[0]
		page = page[1:]
		if err := r.same(ctx, m, e); err != nil {
			return cp, err
		}
		cp = app.BrokerCheckpoint{Cursor: app.CursorOf(e), EventID: e.EventID, Sequence: seq, Epoch: cp.Epoch}
	}
	return cp, nil
}

// errFeedBehind: the stream holds, after the checkpoint, the message of
// an event the feed does not show yet; the relay waits until it does.
var errFeedBehind = errors.New("natsrelay: the feed does not show yet an event the stream holds after the checkpoint")

// heldBack is errFeedBehind when m, a message after the cursor for which
// the feed shows no event, is of an event stored after the cursor: the
// feed holds it back, below a watermark that fell under events it showed
// before (a transaction of another database, passed over while it runs,
// holds it while it ends, or once prepared), and whether m is the relay's
// message for it can be told only once the feed shows it. The feed's
// events are compared with the stream's as ever then: waiting lets no
// message through. A message of no event stored after the cursor is none
// the feed can show there: nil, for the caller to call it a mismatch.
func (r *Relay) heldBack(ctx context.Context, m *jetstream.RawStreamMsg, after app.FeedCursor) error {
	msgID := m.Header.Get(jetstream.MsgIDHeader)
	id, err := uuid.Parse(msgID)
	if err != nil || id.String() != msgID {
		return nil
	}
	c, ok, err := r.feed.EventCursor(ctx, id)
	if err != nil {
		return fmt.Errorf("look up event %s of stream %s's message %d: %w", id, r.cfg.Stream.Name, m.Sequence, err)
	}
	if !ok || !after.Before(c) {
		return nil
	}
	return fmt.Errorf("%w: stream %s's message %d is of event %s (position %d), which the feed holds back below an older transaction",
		errFeedBehind, r.cfg.Stream.Name, m.Sequence, id, c.Position)
}

// guardHeaders are the guards the relay sends, which the stream keeps as
// they were sent and which depend on who sent the message and when.
var guardHeaders = map[string]bool{
	"Nats-Expected-Stream":        true,
	"Nats-Expected-Last-Sequence": true,
	"Nats-Expected-Last-Msg-Id":   true,
}

// same checks that m is exactly the message the relay publishes for e:
// its subject, body and headers, but for the guards' (guardHeaders); e
// as it read when m was published, as far as m can tell (asPublished).
func (r *Relay) same(ctx context.Context, m *jetstream.RawStreamMsg, e app.RecordedEvent) error {
	e, err := r.asPublished(ctx, m, e)
	if err != nil {
		return err
	}
	want, err := r.message(e)
	if err != nil {
		return err
	}
	what := ""
	switch {
	case m.Header.Get(jetstream.MsgIDHeader) != e.EventID.String():
		what = fmt.Sprintf("Nats-Msg-Id %q", m.Header.Get(jetstream.MsgIDHeader))
	case m.Subject != want.Subject:
		what = "subject " + m.Subject
	case !bytes.Equal(m.Data, want.Data):
		what = "a different body"
	default:
		want.Header.Set(jetstream.MsgIDHeader, e.EventID.String())
		for k, v := range m.Header {
			if !guardHeaders[k] && !slices.Equal(v, want.Header.Values(k)) {
				what = fmt.Sprintf("header %s %q", k, v)
			}
		}
		for k := range want.Header {
			if len(m.Header.Values(k)) == 0 {
				what = "no header " + k
			}
		}
	}
	if what == "" {
		return nil
	}
	return mismatchf("stream %s's message %d has %s, but the feed's event there is %s (position %d): "+
		"someone else published to it; the relay publishes nothing until that is resolved (see `orderapi nats resume`)",
		r.cfg.Stream.Name, m.Sequence, what, e.EventID, e.Position)
}

// eventIDOf is the checkpoint's event as the stop reason names it.
func eventIDOf(cp app.BrokerCheckpoint) string {
	if cp.EventID == uuid.Nil {
		return "unknown"
	}
	return cp.EventID.String()
}
