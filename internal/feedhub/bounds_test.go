package feedhub_test

import (
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/orderapi/orderapi/internal/app"
	"github.com/orderapi/orderapi/internal/feedhub"
)

// TestSlowSubscriberIsDropped: a subscriber that stops taking is ended
// once its buffer overflows, after the events it holds; a new
// subscription from the last of them resumes without a gap.
func TestSlowSubscriberIsDropped(t *testing.T) {
	t.Parallel()
	// Given a hub whose subscribers may hold one page, and two
	// subscribers that have caught up: one slow, one that keeps up
	f := newFixture(t)
	hub := f.hub(feedhub.Config{Buffer: 1})
	slow, quick := joined(t, hub, feedhub.Query{}), joined(t, hub, feedhub.Query{})
	type result struct {
		got []app.FeedCursor
		err error
	}
	quickGot := make(chan result, 1)
	go func() {
		got, err := take(quick, 3)
		quickGot <- result{got, err}
	}()
	// When an event is offered to the slow one but not taken
	f.create(1)
	for deadline := time.Now().Add(feedWait); len(slow.Ready()) == 0; time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the first event was never offered")
		}
	}
	// and more follow, offered to both (the quick one gets them)
	f.create(2)
	all := f.all(3)
	if r := <-quickGot; r.err != nil || !slices.Equal(r.got, cursors(all)) {
		t.Fatalf("the quick subscriber got %v, %v", r.got, r.err)
	}

	// Then the slow one gets the first, then its end
	got, err := take(slow, 3)
	if !errors.Is(err, feedhub.ErrTooSlow) || !slices.Equal(got, cursors(all[:1])) {
		t.Fatalf("got %v and %v, want %v then ErrTooSlow", got, err, cursors(all[:1]))
	}
	// and resuming from there gives the rest
	if rest, err := take(subscribe(t, hub, feedhub.Query{After: got[0]}), 2); err != nil || !slices.Equal(rest, cursors(all[1:])) {
		t.Errorf("resumed: %v, %v; want %v", rest, err, cursors(all[1:]))
	}
}

// TestCatchUpsAreBounded: subscribers behind the tail read for
// themselves, but no more than CatchUps at once.
func TestCatchUpsAreBounded(t *testing.T) {
	t.Parallel()
	// Given 40 events, and a hub reading pages of 5, two catch-ups at once
	f := newFixture(t)
	f.create(40)
	all := f.all(40)
	f.feed.delay = 10 * time.Millisecond
	hub := f.hub(feedhub.Config{Page: 5, CatchUps: 2})

	// When eight subscribers catch up from the start at the same time
	var done sync.WaitGroup
	for range 8 {
		done.Add(1)
		go func() {
			defer done.Done()
			s, err := hub.Subscribe(feedhub.Query{})
			if err != nil {
				t.Error(err)
				return
			}
			defer s.Close()
			if got, err := take(s, 40); err != nil || !slices.Equal(got, cursors(all)) {
				t.Errorf("got %d events, %v", len(got), err)
			}
		}()
	}
	done.Wait()

	// Then at most two of them, and the tail, read at once
	if most := f.feed.most.Load(); most > 3 {
		t.Errorf("%d reads at once; want at most 2 catch-ups and the tail", most)
	}
}
