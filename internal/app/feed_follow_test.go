package app_test

import (
	"testing"
	"time"

	"github.com/orderapi/orderapi/internal/app"
)

func TestFeedFollower(t *testing.T) {
	ms := time.Millisecond
	// Given a follower that polls every 200 ms, started unsettled
	f := app.NewFeedFollower(200*ms, false)
	// When its reads find nothing, it looks again soon, at doubling
	// delays, until the delay would reach the poll
	for _, want := range []time.Duration{20 * ms, 40 * ms, 80 * ms, 160 * ms, 200 * ms, 200 * ms} {
		if got := f.Wait(true); got != want {
			t.Fatalf("Wait(empty) = %s, want %s", got, want)
		}
	}
	// When a wake-up comes, the quick looks start again, and a read that
	// finds something ends them
	f.Woken()
	if got := f.Wait(true); got != 20*ms {
		t.Errorf("after a wake-up: %s, want 20ms", got)
	}
	if got := f.Wait(false); got != 200*ms {
		t.Errorf("after a read that found something: %s, want the poll", got)
	}
	if got := f.Wait(true); got != 200*ms {
		t.Errorf("then an empty read: %s, want the poll", got)
	}
	// And one started settled polls until woken
	if got := app.NewFeedFollower(200*ms, true).Wait(true); got != 200*ms {
		t.Errorf("settled: %s, want the poll", got)
	}
}
