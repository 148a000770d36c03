package natsrelay_test

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/orderapi/orderapi/internal/adapters/natsrelay"
	"github.com/orderapi/orderapi/internal/adapters/natsrelay/natstest"
	"github.com/orderapi/orderapi/internal/app"
)

// TestPublishesEveryEventOnceInFeedOrder: events stored before the relay
// starts and while it runs are each published once, in feed order, on
// <prefix>.<Type>.<order_id>, with Nats-Msg-Id = event id.
func TestPublishesEveryEventOnceInFeedOrder(t *testing.T) {
	t.Parallel()
	// Given 3 orders of 3 events each, stored before the relay runs
	f := newFixture(t)
	f.orders(3, 2)

	// When the relay runs, and 2 more orders are stored meanwhile
	r, _ := f.start(f.config(), f.lock(0))
	f.orders(2, 2)

	// Then the stream holds the feed's 15 events, once each, in its order
	f.sameAsFeed(f.stream(15), f.feed(15))
	// and the relay says it has caught up
	for deadline := time.Now().Add(wait); ; time.Sleep(20 * time.Millisecond) {
		st, err := r.Progress(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if st.Name == natsrelay.Name && st.LagEvents == 0 && st.Position != (app.FeedCursor{}) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("progress %+v, want no lag", st)
		}
	}
	if !r.HoldsLock() || r.Published() != 15 {
		t.Errorf("holds the lock: %v, published %d; want true, 15", r.HoldsLock(), r.Published())
	}
}

// TestResumesFromTheStreamsTail: a relay started again publishes what
// the stream lacks, nothing twice.
func TestResumesFromTheStreamsTail(t *testing.T) {
	t.Parallel()
	// Given a relay that published 4 events, then stopped
	f := newFixture(t)
	f.orders(2, 1)
	r, stop := f.start(f.config(), f.lock(0))
	f.stream(4)
	stop()
	if r.Published() != 4 {
		t.Fatalf("published %d, want 4", r.Published())
	}

	// When more events are stored and a new relay starts
	f.orders(2, 2)
	again, _ := f.start(f.config(), f.lock(0))

	// Then it publishes only those, after the others
	f.sameAsFeed(f.stream(10), f.feed(10))
	if again.Published() != 6 {
		t.Errorf("the second relay published %d, want 6", again.Published())
	}
}

// TestRacingRelaysPublishOnce: relays in two replicas, one elected by the
// lock; and even two that each believe they hold it (a takeover overlap,
// shown by two lock keys): every event once, in feed order.
func TestRacingRelaysPublishOnce(t *testing.T) {
	t.Parallel()
	for name, keys := range map[string][2]int64{"one lock": {0, 0}, "both elected": {0, 42}} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			// Given two relays over one store and stream
			f := newFixture(t)
			f.orders(5, 3)
			a, _ := f.start(f.config(), f.lock(keys[0]))
			b, _ := f.start(f.config(), f.lock(keys[1]))

			// When orders are stored while they run
			f.orders(10, 3)

			// Then every event is on the stream once, in feed order
			f.sameAsFeed(f.stream(60), f.feed(60))
			if n := a.Published() + b.Published(); n != 60 {
				t.Errorf("the relays had %d messages taken, want 60", n)
			}
		})
	}
}

// TestAForeignPublishIsNotRepeated: when the stream moved under the
// relay (an event published by another, past the duplicate window), the
// guard refuses the relay's publish; it reads the tail and goes on after
// it, publishing nothing twice.
func TestAForeignPublishIsNotRepeated(t *testing.T) {
	t.Parallel()
	// Given a relay whose encoder holds the 5th event back, with a
	// duplicate window of 1s
	f := newFixture(t)
	f.orders(2, 1)
	events := f.feed(4)
	f.orders(1, 1)
	all := f.feed(6)
	held, release := make(chan struct{}), make(chan struct{})
	var once sync.Once
	cfg := f.config()
	cfg.Stream.DuplicateWindow = time.Second
	cfg.Encode = func(e app.RecordedEvent) ([]byte, error) {
		if e.EventID == all[4].EventID {
			once.Do(func() { close(held) })
			<-release
		}
		return encode(e)
	}
	f.start(cfg, f.lock(0))
	<-held
	f.stream(4)

	// When another publisher stores that event, guarded as the relay
	// does, and the duplicate window passes before the relay publishes
	_, js := natstest.JetStream(t, f.url)
	body, _ := encode(all[4])
	msg := nats.NewMsg(f.names.Prefix + "." + all[4].Type + "." + all[4].OrderID.String())
	msg.Data = body
	msg.Header.Set("Content-Type", "application/cloudevents+json")
	if _, err := js.PublishMsg(context.Background(), msg, jetstream.WithMsgID(all[4].EventID.String()),
		jetstream.WithExpectLastMsgID(events[3].EventID.String())); err != nil {
		t.Fatal(err)
	}
	time.Sleep(1500 * time.Millisecond)
	close(release)

	// Then the stream holds every event once, in feed order
	f.sameAsFeed(f.stream(6), all)
}

// TestNATSAwayAtStart: without a NATS server, commands work; once one
// runs, the relay catches up.
func TestNATSAwayAtStart(t *testing.T) {
	t.Parallel()
	// Given a relay pointed at a port where no server runs yet
	port := natstest.FreePort(t)
	f := newFixtureAt(t, "nats://127.0.0.1:"+itoa(port))
	f.start(f.config(), f.lock(0))

	// When orders are stored
	began := time.Now()
	f.orders(3, 2)
	if took := time.Since(began); took > 5*time.Second {
		t.Errorf("9 commands took %s without NATS", took)
	}
	// and a server starts there
	natstest.Start(t, port)

	// Then the relay publishes them all, once each
	f.sameAsFeed(f.stream(9), f.feed(9))
}

// TestUnderLoadAConsumerGetsEachEventOnce: several writers, a couple of
// thousand events: a durable consumer gets every one once, each order's
// in version order.
func TestUnderLoadAConsumerGetsEachEventOnce(t *testing.T) {
	t.Parallel()
	// Given a relay running, and two more replicas competing for its lock
	f := newFixture(t)
	for range 3 {
		f.start(f.config(), f.lock(0))
	}

	// When 8 writers store 50 orders of 5 events each
	const writers, perWriter, items = 8, 50, 4
	var wg sync.WaitGroup
	errs := make(chan error, writers)
	for range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range perWriter {
				if err := writeOrder(f.svc, items); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	const total = writers * perWriter * (items + 1)

	// Then a durable consumer gets each event once, per order in version
	// order, and the stream is the feed
	_, js := natstest.JetStream(t, f.url)
	ctx := context.Background()
	f.stream(total)
	c, err := js.CreateOrUpdateConsumer(ctx, f.names.Stream, jetstream.ConsumerConfig{Durable: "load", AckPolicy: jetstream.AckExplicitPolicy})
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	versions := map[string]int{}
	for len(seen) < total {
		batch, err := c.Fetch(200, jetstream.FetchMaxWait(5*time.Second))
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for m := range batch.Messages() {
			n++
			id := m.Headers().Get("Nats-Msg-Id")
			if seen[id] {
				t.Fatalf("event %s delivered twice", id)
			}
			seen[id] = true
			var ce struct {
				Subject string `json:"subject"`
				Version int    `json:"orderapiversion"`
			}
			if err := jsonUnmarshal(m.Data(), &ce); err != nil {
				t.Fatal(err)
			}
			if ce.Version != versions[ce.Subject]+1 {
				t.Fatalf("order %s: version %d after %d", ce.Subject, ce.Version, versions[ce.Subject])
			}
			versions[ce.Subject] = ce.Version
			if err := m.Ack(); err != nil {
				t.Fatal(err)
			}
		}
		if err := batch.Error(); err != nil && !errors.Is(err, nats.ErrTimeout) {
			t.Fatal(err)
		}
		if n == 0 {
			t.Fatalf("the consumer got %d of %d events", len(seen), total)
		}
	}
	f.sameAsFeed(f.stream(total), f.feed(total))
	if len(versions) != writers*perWriter || slices.ContainsFunc(mapValues(versions), func(v int) bool { return v != items+1 }) {
		t.Errorf("%d orders seen; want %d, each at version %d", len(versions), writers*perWriter, items+1)
	}
}

// TestStreamOfOtherSubjectsIsRefused: an existing stream of the name that
// holds other subjects is neither used nor changed.
func TestStreamOfOtherSubjectsIsRefused(t *testing.T) {
	t.Parallel()
	// Given a stream of the configured name on other subjects
	url := natstest.URL(t)
	names := natstest.Unique(t, url)
	_, js := natstest.JetStream(t, url)
	ctx := context.Background()
	if _, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: names.Stream, Subjects: []string{names.Prefix + ".other.>"}}); err != nil {
		t.Fatal(err)
	}
	cfg := natsrelay.StreamConfig{Name: names.Stream, SubjectPrefix: names.Prefix}

	// When the relay's start-up and setup look at it
	errEnsure := natsrelay.EnsureStream(ctx, js, cfg)
	_, errSetup := natsrelay.SetupStream(ctx, js, cfg)

	// Then both refuse it, and it is unchanged
	if !errors.Is(errEnsure, natsrelay.ErrForeignStream) || !errors.Is(errSetup, natsrelay.ErrForeignStream) {
		t.Fatalf("ensure: %v; setup: %v; want ErrForeignStream", errEnsure, errSetup)
	}
	s, err := js.Stream(ctx, names.Stream)
	if err != nil || !slices.Equal(s.CachedInfo().Config.Subjects, []string{names.Prefix + ".other.>"}) {
		t.Errorf("stream %v, %v", s, err)
	}
}

// TestSetupCreatesThenUpdatesLimits: setup creates the stream, then
// changes only its limits, keeping its messages.
func TestSetupCreatesThenUpdatesLimits(t *testing.T) {
	t.Parallel()
	url := natstest.URL(t)
	names := natstest.Unique(t, url)
	_, js := natstest.JetStream(t, url)
	ctx := context.Background()
	cfg := natsrelay.StreamConfig{Name: names.Stream, SubjectPrefix: names.Prefix, MaxAge: time.Hour}

	// Given a stream setup created, holding a message
	if did, err := natsrelay.SetupStream(ctx, js, cfg); err != nil || did != "created" {
		t.Fatalf("first setup: %s, %v", did, err)
	}
	if _, err := js.Publish(ctx, names.Prefix+".OrderCreated.x", []byte("{}")); err != nil {
		t.Fatal(err)
	}

	// When setup runs again with the same, then with other limits
	same, errSame := natsrelay.SetupStream(ctx, js, cfg)
	cfg.MaxAge, cfg.MaxBytes, cfg.DuplicateWindow = 2*time.Hour, 1<<30, time.Minute
	changed, errChanged := natsrelay.SetupStream(ctx, js, cfg)

	// Then it changes nothing, then the limits alone
	if errSame != nil || same != "unchanged" || errChanged != nil || changed != "updated" {
		t.Fatalf("setup again: %s, %v; with other limits: %s, %v", same, errSame, changed, errChanged)
	}
	s, err := js.Stream(ctx, names.Stream)
	if err != nil {
		t.Fatal(err)
	}
	info := s.CachedInfo()
	if info.Config.MaxAge != 2*time.Hour || info.Config.MaxBytes != 1<<30 || info.Config.Duplicates != time.Minute || info.State.Msgs != 1 {
		t.Errorf("stream %+v, %d messages", info.Config, info.State.Msgs)
	}
}

// TestNATSRestart: a NATS server restarted while the relay runs, after
// the duplicate window of its last message passed: the relay goes on
// after the stream's tail, publishing nothing twice.
func TestNATSRestart(t *testing.T) {
	t.Parallel()
	// Given a relay that published 4 events to a server of the test's own,
	// with a duplicate window of 1s, which then passed
	srv := natstest.Start(t, 0)
	f := newFixtureAt(t, srv.URL)
	cfg := f.config()
	cfg.Stream.DuplicateWindow = time.Second
	f.orders(2, 1)
	f.start(cfg, f.lock(0))
	f.stream(4)
	time.Sleep(1500 * time.Millisecond)

	// When the server restarts, and events are stored meanwhile and after
	srv.Stop()
	f.orders(1, 1)
	srv.Restart(t)
	f.orders(1, 1)

	// Then the stream holds every event once, in feed order
	f.sameAsFeed(f.stream(8), f.feed(8))
}
