package standby_test

import (
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/orderapi/orderapi/internal/adapters/postgres/standby"
	"github.com/orderapi/orderapi/internal/app"
	"github.com/orderapi/orderapi/internal/app/apptest"
	"github.com/orderapi/orderapi/internal/feedhub"
	"github.com/rs/zerolog"
)

// TestLiveFeedOnStandbyCatchesUpWhenReplayResumes: a live feed reads the
// standby, but its wake-ups come from the primary, before the standby has
// the events they announce. Its quick second looks find nothing while
// replay is paused; once replay resumes, with no wake-up left to come, its
// poll finds the events.
func TestLiveFeedOnStandbyCatchesUpWhenReplayResumes(t *testing.T) {
	t.Parallel()
	// Given a subscriber at the end of the feed, read from a standby
	// whose replay is paused
	f := newFixture(t, standby.Config{MaxLag: time.Minute})
	hub, err := feedhub.New(f.svc, zerolog.New(zerolog.NewTestWriter(t)), feedhub.Config{Wake: f.listener})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(hub.Close)
	sub, err := hub.Subscribe(feedhub.Query{})
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Close()
	if batch, err := sub.Next(t.Context()); err != nil || len(batch) != 0 {
		t.Fatalf("first read of an empty feed: %d events (%v)", len(batch), err)
	}
	f.standby.PauseReplay(t)

	// When orders are created on the primary, which wakes the hub
	var want []int64
	for range 3 {
		res, err := f.svc.CreateOrder(t.Context(), app.NewOrder{CustomerID: uuid.New()}, apptest.AsStaff)
		if err != nil {
			t.Fatal(err)
		}
		want = append(want, res.Position)
	}
	// Then, while replay stays paused, the subscriber gets nothing: the
	// standby does not have the events
	select {
	case <-sub.Ready():
		if batch, err := sub.Next(t.Context()); len(batch) != 0 || err != nil {
			t.Fatalf("while replay is paused the subscriber got %d events (%v)", len(batch), err)
		}
	case <-time.After(300 * time.Millisecond):
	}

	// And once replay resumes it gets every one, in order
	f.standby.ResumeReplay(t)
	var got []int64
	deadline := time.After(settle)
	for len(got) < len(want) {
		select {
		case <-sub.Ready():
		case <-deadline:
			t.Fatalf("the subscriber got %d of %d events once replay resumed", len(got), len(want))
		}
		batch, err := sub.Next(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range batch {
			got = append(got, e.Cursor().Position)
		}
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("the subscriber got the events at positions %v, want %v", got, want)
		}
	}
}
