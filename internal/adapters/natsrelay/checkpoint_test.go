package natsrelay_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/orderapi/orderapi/internal/adapters/natsrelay"
	"github.com/orderapi/orderapi/internal/adapters/natsrelay/natstest"
	"github.com/orderapi/orderapi/internal/adapters/postgres/relaystate"
	"github.com/orderapi/orderapi/internal/app"
)

// TestAForeignMessageAtTheTailStopsTheRelay: a message someone else
// published under the prefix, after the relay's last, stops it, visibly,
// instead of being taken for the relay's own.
func TestAForeignMessageAtTheTailStopsTheRelay(t *testing.T) {
	t.Parallel()
	// Given a relay that published 4 events and stopped
	f := publishedFour(t)

	// When another publisher stores a message under the prefix, and 4
	// more events are stored
	f.publishRaw(f.names.Prefix+".OrderPlaced.x", []byte(`{"orderapitxid":"999999999","orderapiposition":"999999"}`), "forged")
	f.orders(2, 1)

	// Then a relay started again stops with stream_mismatch, 4 events
	// behind, in every replica's report, and publishes nothing
	r, _ := f.start(f.config(), f.lock(0))
	st := f.waitStopped(r, natsrelay.StopStreamMismatch)
	if st.LagEvents != 4 || !strings.Contains(st.Stalled.Reason, "someone else published") {
		t.Errorf("progress %+v (%+v), want 4 events behind, naming the foreign publisher", st, st.Stalled)
	}
	other, _ := f.start(f.config(), f.lock(0))
	if st, err := other.Progress(context.Background()); err != nil || st.Stalled == nil || st.Stalled.Code != natsrelay.StopStreamMismatch {
		t.Errorf("the other replica reports %+v, %v; want the same stop", st, err)
	}
	time.Sleep(300 * time.Millisecond)
	f.streamHolds(5)
}

// TestAFaithfulCopyOfALaterEventIsNotTakenForTheTail: a copy of a later
// event, its id, subject and body exactly as the relay would publish
// them, stored right after the relay's last message, must not make the
// relay skip the events between: it is not the feed's next event there.
func TestAFaithfulCopyOfALaterEventIsNotTakenForTheTail(t *testing.T) {
	t.Parallel()
	// Given a relay that published 4 events and stopped, and 4 more events
	f := publishedFour(t)
	f.orders(2, 1)
	all := f.feed(8)

	// When a copy of the 8th is stored after the 4th
	body, err := encode(all[7])
	if err != nil {
		t.Fatal(err)
	}
	f.publishRaw(f.names.Prefix+"."+all[7].Type+"."+all[7].OrderID.String(), body, all[7].EventID.String())

	// Then the relay stops there, 4 events behind, and skips none
	r, _ := f.start(f.config(), f.lock(0))
	st := f.waitStopped(r, natsrelay.StopStreamMismatch)
	if st.LagEvents != 4 || st.Position != app.CursorOf(all[3]) {
		t.Errorf("progress %+v, want at event 4, 4 behind", st)
	}
	time.Sleep(300 * time.Millisecond)
	f.streamHolds(5)
}

// TestMessagesAfterTheCheckpointThatAreTheFeedsAreKept: a batch the
// stream acknowledged but the relay did not record (it died between the
// two) is found to be the feed's continuation and kept, not published
// again.
func TestMessagesAfterTheCheckpointThatAreTheFeedsAreKept(t *testing.T) {
	t.Parallel()
	// Given a relay that published 4 events and stopped
	f := publishedFour(t)
	// and the next 2 on the stream, exactly as the relay publishes them,
	// unrecorded
	f.orders(2, 1)
	all := f.feed(8)
	for _, e := range all[4:6] {
		body, err := encode(e)
		if err != nil {
			t.Fatal(err)
		}
		f.publishRaw(f.names.Prefix+"."+e.Type+"."+e.OrderID.String(), body, e.EventID.String())
	}

	// When the relay starts again
	r, _ := f.start(f.config(), f.lock(0))

	// Then it publishes the last 2 only, after them
	f.sameAsFeed(f.stream(8), all)
	if r.Published() != 2 {
		t.Errorf("published %d, want 2", r.Published())
	}
	if st := f.record(); st.Checkpoint.Sequence != 8 || st.Checkpoint.EventID != all[7].EventID || st.Stopped != nil {
		t.Errorf("record %+v, want at message 8, event 8, not stopped", st)
	}
}

// TestALostTailIsNoObstacle: the stream's messages gone (aged out, or
// purged), the relay goes on after the checkpoint's sequence, on its own.
func TestALostTailIsNoObstacle(t *testing.T) {
	t.Parallel()
	// Given a relay that published 4 events and stopped
	f := publishedFour(t)

	// When the stream is purged and 4 more events are stored
	_, js := natstest.JetStream(t, f.url)
	s, err := js.Stream(context.Background(), f.names.Stream)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Purge(context.Background()); err != nil {
		t.Fatal(err)
	}
	f.orders(2, 1)
	all := f.feed(8)

	// Then a relay started again publishes those 4, at sequences 5 to 8
	r, _ := f.start(f.config(), f.lock(0))
	for deadline := time.Now().Add(wait); r.Published() < 4; time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("published %d, want 4", r.Published())
		}
	}
	for i, e := range all[4:] {
		m, err := s.GetMsg(context.Background(), uint64(5+i))
		if err != nil || m.Header.Get(jetstream.MsgIDHeader) != e.EventID.String() {
			t.Fatalf("message %d: %v, %v; want event %s", 5+i, m, err, e.EventID)
		}
	}
}

// TestARecreatedStreamWaitsForAnOperator: a stream deleted and made
// again is behind the checkpoint; the relay stops rather than guess, and
// an operator's resume from the start publishes every event to it.
func TestARecreatedStreamWaitsForAnOperator(t *testing.T) {
	t.Parallel()
	// Given a relay that published 4 events, and its stream deleted
	f := publishedFour(t)
	_, js := natstest.JetStream(t, f.url)
	if err := js.DeleteStream(context.Background(), f.names.Stream); err != nil {
		t.Fatal(err)
	}

	// When the relay starts again
	r, _ := f.start(f.config(), f.lock(0))

	// Then it makes the stream, stops, and publishes nothing
	st := f.waitStopped(r, natsrelay.StopStreamMismatch)
	if !strings.Contains(st.Stalled.Reason, "orderapi nats resume --from-start") {
		t.Errorf("the reason %q does not say what to do", st.Stalled.Reason)
	}
	f.streamHolds(0)

	// and when an operator resumes from the start, it publishes all
	if _, err := relaystate.New(f.pool).Resume(context.Background(), f.names.Stream, app.BrokerCheckpoint{}); err != nil {
		t.Fatal(err)
	}
	f.sameAsFeed(f.stream(4), f.feed(4))
	f.waitGoing(r)
}

// TestAStreamWithoutACheckpointWaitsForAnOperator: a stream that already
// holds messages when this database has no checkpoint for it (another
// database's, or published by hand) is not published to.
func TestAStreamWithoutACheckpointWaitsForAnOperator(t *testing.T) {
	t.Parallel()
	// Given a stream holding a message, and a store with events
	f := newFixture(t)
	f.publishRaw(f.names.Prefix+".OrderCreated.x", []byte(`{}`), "someone")
	f.orders(1, 1)

	// When the relay starts
	r, _ := f.start(f.config(), f.lock(0))

	// Then it stops, saying how to go on, and publishes nothing
	st := f.waitStopped(r, natsrelay.StopStreamMismatch)
	if !strings.Contains(st.Stalled.Reason, "no checkpoint") || st.LagEvents != 2 {
		t.Errorf("progress %+v (%q), want 2 behind, for want of a checkpoint", st, st.Stalled.Reason)
	}
	f.streamHolds(1)
}

// TestNATSAwayIsReported: a relay that cannot reach NATS is listed, with
// its lag and the reason, and clears it once it publishes.
func TestNATSAwayIsReported(t *testing.T) {
	t.Parallel()
	// Given a relay pointed at a port where no server runs yet, and events
	port := natstest.FreePort(t)
	f := newFixtureAt(t, "nats://127.0.0.1:"+itoa(port))
	f.orders(1, 2)
	r, _ := f.start(f.config(), f.lock(0))

	// Then it reports broker_unreachable, 3 events behind
	if st := f.waitStopped(r, natsrelay.StopBrokerUnreachable); st.LagEvents != 3 {
		t.Errorf("progress %+v, want 3 events behind", st)
	}

	// and when a server starts there, it publishes them and clears it
	natstest.Start(t, port)
	f.sameAsFeed(f.stream(3), f.feed(3))
	f.waitGoing(r)
}

// TestRefusedCredentialsAreReportedSo: a server that refuses the relay's
// credentials is reported as that, not as unreachable.
func TestRefusedCredentialsAreReportedSo(t *testing.T) {
	t.Parallel()
	// Given a server that accepts one user, and a relay with a wrong
	// password
	srv := natstest.StartWithUser(t, "orderapi", "right")
	f := newFixtureAt(t, strings.Replace(srv.URL, ":right@", ":wrong@", 1))
	f.orders(1, 0)

	// When the relay runs
	r, _ := f.start(f.config(), f.lock(0))

	// Then it reports broker_unauthorized
	st := f.waitStopped(r, natsrelay.StopBrokerUnauthorized)
	if !strings.Contains(strings.ToLower(st.Stalled.Reason), "authorization") {
		t.Errorf("reason %q, want it to say authorization", st.Stalled.Reason)
	}
}

// TestARefusedPublishIsReported: a stream that refuses messages (at its
// limit, discarding new ones) shows as publish_refused, with the lag.
func TestARefusedPublishIsReported(t *testing.T) {
	t.Parallel()
	// Given the stream, made ahead by someone, holding 2 messages at most
	// and refusing more
	f := newFixture(t)
	_, js := natstest.JetStream(t, f.url)
	if _, err := js.CreateStream(context.Background(), jetstream.StreamConfig{Name: f.names.Stream,
		Subjects: []string{f.names.Prefix + ".>"}, MaxMsgs: 2, Discard: jetstream.DiscardNew}); err != nil {
		t.Fatal(err)
	}

	// When 4 events are stored and the relay runs
	f.orders(1, 3)
	r, _ := f.start(f.config(), f.lock(0))

	// Then it publishes 2, and reports the refusal, 2 events behind
	st := f.waitStopped(r, natsrelay.StopPublishRefused)
	if st.LagEvents != 2 {
		t.Errorf("progress %+v, want 2 events behind", st)
	}
	f.streamHolds(2)
}

// publishedFour is a fixture whose relay published 4 events (2 orders)
// and stopped.
func publishedFour(t *testing.T) *fixture {
	t.Helper()
	f := newFixture(t)
	f.orders(2, 1)
	_, stop := f.start(f.config(), f.lock(0))
	f.stream(4)
	stop()
	return f
}

// publishCopy stores, as another publisher would, e's message as the
// relay writes its subject, body and Content-Type, with Nats-Msg-Id = e's
// id, its headers changed by edit.
func (f *fixture) publishCopy(e app.RecordedEvent, edit func(nats.Header)) {
	f.t.Helper()
	body, err := encode(e)
	if err != nil {
		f.t.Fatal(err)
	}
	_, js := natstest.JetStream(f.t, f.url)
	msg := nats.NewMsg(f.names.Prefix + "." + e.Type + "." + e.OrderID.String())
	msg.Data = body
	msg.Header.Set("Content-Type", "application/cloudevents+json")
	edit(msg.Header)
	if _, err := js.PublishMsg(context.Background(), msg, jetstream.WithMsgID(e.EventID.String())); err != nil {
		f.t.Fatal(err)
	}
}

// publishRaw stores a message under the fixture's stream as another
// publisher would.
func (f *fixture) publishRaw(subject string, body []byte, id string) {
	f.t.Helper()
	_, js := natstest.JetStream(f.t, f.url)
	if err := natsrelay.EnsureStream(context.Background(), js, natsrelay.StreamConfig{Name: f.names.Stream, SubjectPrefix: f.names.Prefix}); err != nil {
		f.t.Fatal(err)
	}
	msg := nats.NewMsg(subject)
	msg.Data = body
	msg.Header.Set("Content-Type", "application/cloudevents+json")
	if _, err := js.PublishMsg(context.Background(), msg, jetstream.WithMsgID(id)); err != nil {
		f.t.Fatal(err)
	}
}

// streamHolds checks that the stream's last sequence is n.
func (f *fixture) streamHolds(n uint64) {
	f.t.Helper()
	if last := f.streamLast(); last != n {
		f.t.Fatalf("the stream's last sequence is %d, want %d", last, n)
	}
}

// streamLast is the stream's last sequence.
func (f *fixture) streamLast() uint64 {
	f.t.Helper()
	_, js := natstest.JetStream(f.t, f.url)
	s, err := js.Stream(context.Background(), f.names.Stream)
	if err != nil {
		f.t.Fatal(err)
	}
	info, err := s.Info(context.Background())
	if err != nil {
		f.t.Fatal(err)
	}
	return info.State.LastSeq
}

// record is what the database records of the fixture's stream.
func (f *fixture) record() app.BrokerState {
	f.t.Helper()
	st, err := relaystate.New(f.pool).Load(context.Background(), f.names.Stream)
	if err != nil {
		f.t.Fatal(err)
	}
	return st
}

// waitStopped waits until r reports itself stopped for code.
func (f *fixture) waitStopped(r *natsrelay.Relay, code string) app.ProjectionStatus {
	f.t.Helper()
	for deadline := time.Now().Add(wait); ; time.Sleep(20 * time.Millisecond) {
		st, err := r.Progress(context.Background())
		if err != nil {
			f.t.Fatal(err)
		}
		if st.Stalled != nil && st.Stalled.Code == code {
			return st
		}
		if time.Now().After(deadline) {
			f.t.Fatalf("progress %+v (stalled %+v), want stopped for %s", st, st.Stalled, code)
		}
	}
}

// waitGoing waits until r reports itself caught up and not stopped.
func (f *fixture) waitGoing(r *natsrelay.Relay) {
	f.t.Helper()
	for deadline := time.Now().Add(wait); ; time.Sleep(20 * time.Millisecond) {
		st, err := r.Progress(context.Background())
		if err != nil {
			f.t.Fatal(err)
		}
		if st.Stalled == nil && st.LagEvents == 0 {
			return
		}
		if time.Now().After(deadline) {
			f.t.Fatalf("progress %+v (stalled %+v), want caught up", st, st.Stalled)
		}
	}
}

// TestAForeignMessageMidBatchStopsEverythingAfterIt: a message someone
// else publishes while a batch is in flight lands between two of the
// relay's; none of the batch's later messages may be stored after it.
func TestAForeignMessageMidBatchStopsEverythingAfterIt(t *testing.T) {
	t.Parallel()
	// Given 6 events, and a relay whose encoder holds the 2nd back until a
	// foreign message is on the stream after the 1st
	f := newFixture(t)
	f.orders(2, 2)
	all := f.feed(6)
	held, release := make(chan struct{}), make(chan struct{})
	var once sync.Once
	cfg := f.config()
	cfg.Encode = func(e app.RecordedEvent) ([]byte, error) {
		if e.EventID == all[1].EventID {
			once.Do(func() {
				close(held)
				<-release
			})
		}
		return encode(e)
	}
	r, _ := f.start(cfg, f.lock(0))
	<-held
	f.stream(1)

	// When the foreign message is published, and the batch goes on
	f.publishRaw(f.names.Prefix+".OrderCreated.x", []byte(`{}`), "foreign")
	close(release)

	// Then the relay stops, and the stream holds the 1st event and the
	// foreign message only
	f.waitStopped(r, natsrelay.StopStreamMismatch)
	time.Sleep(300 * time.Millisecond)
	f.streamHolds(2)
}

// TestAnAlteredCopyOfTheNextEventIsNotTakenAsPublished: a message with
// the next event's id but another body, found at the tail, stops the
// relay; an operator's resume after the last real event does not make
// JetStream's duplicate answer count as the event's message.
func TestAnAlteredCopyOfTheNextEventIsNotTakenAsPublished(t *testing.T) {
	t.Parallel()
	// Given a relay that published 4 events, with a duplicate window of
	// 1s, and an altered copy of the 5th stored after them
	f := newFixture(t)
	cfg := f.config()
	cfg.Stream.DuplicateWindow = time.Second
	f.orders(2, 1)
	_, stop := f.start(cfg, f.lock(0))
	f.stream(4)
	stop()
	f.orders(1, 1)
	all := f.feed(6)
	f.publishRaw(f.names.Prefix+"."+all[4].Type+"."+all[4].OrderID.String(), []byte(`{"forged":true}`), all[4].EventID.String())
	r, _ := f.start(cfg, f.lock(0))
	f.waitStopped(r, natsrelay.StopStreamMismatch)

	// When an operator resumes after the 4th event, behind the copy
	if _, err := relaystate.New(f.pool).Resume(context.Background(), f.names.Stream,
		app.BrokerCheckpoint{Cursor: app.CursorOf(all[3]), EventID: all[4].EventID, Sequence: 5}); err != nil {
		t.Fatal(err)
	}

	// Then the relay does not take the copy for the 5th event's message:
	// once JetStream forgot its id, the 5th and 6th follow it
	for deadline := time.Now().Add(wait); ; time.Sleep(20 * time.Millisecond) {
		if st := f.record(); st.Checkpoint.Sequence == 7 && st.Stopped == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("record %+v (%+v), want at message 7", f.record(), f.record().Stopped)
		}
	}
	msgs := f.stream(7)
	f.sameAsFeed(msgs[5:], all[4:])
}

// TestAnExtraHeaderIsNotTheRelaysMessage: a copy of the next event with a
// header the relay does not send (one named like JetStream's own guards
// too) is not taken for its own.
func TestAnExtraHeaderIsNotTheRelaysMessage(t *testing.T) {
	t.Parallel()
	for _, header := range []string{"X-Extra", "Nats-Expected-Foo"} {
		t.Run(header, func(t *testing.T) {
			t.Parallel()
			// Given a relay that published 4 events and stopped, and a copy
			// of the 5th with an extra header after them
			f := publishedFour(t)
			f.orders(1, 0)
			all := f.feed(5)
			f.publishCopy(all[4], func(h nats.Header) { h.Set(header, "1") })

			// When the relay starts, then it stops there
			r, _ := f.start(f.config(), f.lock(0))
			if st := f.waitStopped(r, natsrelay.StopStreamMismatch); !strings.Contains(st.Stalled.Reason, header) {
				t.Errorf("reason %q, want it to name the header", st.Stalled.Reason)
			}
		})
	}
}

// TestAStreamThatRefusesEveryGuardIsReported: a stream its server cannot
// place the next message in (purged past its last sequence) refuses every
// guard although it agrees with the checkpoint: reported, not retried in
// silence.
func TestAStreamThatRefusesEveryGuardIsReported(t *testing.T) {
	t.Parallel()
	// Given a relay that published 4 events and stopped, and its stream
	// deleted, made again and purged up to sequence 5
	f := publishedFour(t)
	_, js := natstest.JetStream(t, f.url)
	ctx := context.Background()
	if err := js.DeleteStream(ctx, f.names.Stream); err != nil {
		t.Fatal(err)
	}
	cfg := f.config()
	if err := natsrelay.EnsureStream(ctx, js, cfg.Stream); err != nil {
		t.Fatal(err)
	}
	s, err := js.Stream(ctx, f.names.Stream)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Purge(ctx, jetstream.WithPurgeSequence(5)); err != nil {
		t.Fatal(err)
	}
	f.orders(1, 0)

	// When the relay starts
	r, _ := f.start(cfg, f.lock(0))

	// Then it reports the stream unusable, or a mismatch, never nothing
	for deadline := time.Now().Add(wait); ; time.Sleep(20 * time.Millisecond) {
		st, err := r.Progress(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if st.Stalled != nil && (st.Stalled.Code == natsrelay.StopStreamUnusable || st.Stalled.Code == natsrelay.StopStreamMismatch) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("progress %+v (stalled %+v), want a stop", st, st.Stalled)
		}
	}
}

// TestAResumePastAnUnreadableEventGoesOn: an operator who resumes after
// an event this build cannot decode sends the stopped relay on.
func TestAResumePastAnUnreadableEventGoesOn(t *testing.T) {
	t.Parallel()
	// Given a relay stopped before an unreadable 3rd event, 2 published
	f := newFixture(t)
	f.orders(1, 1)
	if _, err := f.pool.Exec(context.Background(), `
INSERT INTO events (event_id, stream_id, stream_version, event_type, schema_version, data, occurred_at)
VALUES (gen_random_uuid(), gen_random_uuid(), 1, 'OrderExploded', 1, '{}', now())`); err != nil {
		t.Fatal(err)
	}
	f.orders(1, 1)
	all := f.feed(5)
	r, _ := f.start(f.config(), f.lock(0))
	f.waitStopped(r, app.StallEventUnreadable)

	// When an operator resumes after it
	if _, err := relaystate.New(f.pool).Resume(context.Background(), f.names.Stream,
		app.BrokerCheckpoint{Cursor: app.CursorOf(all[2]), EventID: all[1].EventID, Sequence: 2}); err != nil {
		t.Fatal(err)
	}

	// Then the relay publishes the 2 after it
	msgs := f.stream(4)
	f.sameAsFeed(msgs[2:], all[3:])
	f.waitGoing(r)
}

// lostLock is a lock that this process believes it holds, whose session
// is gone: what a holder frozen past its session's end finds.
type lostLock struct{}

func (lostLock) RunChecked(ctx context.Context, work func(context.Context, func(context.Context) error) error) error {
	return work(ctx, func(context.Context) error { return errors.New("the lock's session is gone") })
}

func (lostLock) Held() bool { return true }

// TestAHolderThatLostItsLockRecordsNothing: a relay whose lock's session
// is gone does not write its stop over its successor's record.
func TestAHolderThatLostItsLockRecordsNothing(t *testing.T) {
	t.Parallel()
	// Given a relay that cannot reach NATS and has lost its lock
	f := newFixtureAt(t, "nats://127.0.0.1:"+itoa(natstest.FreePort(t)))
	f.orders(1, 0)
	cfg := f.config()
	cfg.AckWait = 100 * time.Millisecond
	_, stop := f.start(cfg, lostLock{})

	// When it has tried for a while
	time.Sleep(time.Second)
	stop()

	// Then it recorded no stop
	if st := f.record(); st.Stopped != nil {
		t.Errorf("record %+v, want no stop", st.Stopped)
	}
}
