package ratelimit

import (
	"context"
	"testing"
	"time"
)

// fakeClock is a Memory's clock that moves only when told.
type fakeClock struct{ now int64 }

func (c *fakeClock) read() int64             { return c.now }
func (c *fakeClock) advance(d time.Duration) { c.now += d.Microseconds() }

func TestMemoryCountsEachKeyApart(t *testing.T) {
	t.Parallel()
	clock := &fakeClock{}
	m := newMemory(clock.read)
	r := Rate{Limit: 1, Per: time.Minute, Burst: 2}
	allow := func(key string) Decision {
		d, err := m.Allow(context.Background(), key, r)
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	// Given a key that used its burst
	allow("a")
	allow("a")
	// When it and another key ask again
	refused, other := allow("a"), allow("b")
	// Then the first is refused until its bucket regains a request, the
	// other is not affected
	if refused.Allowed || refused.RetryAfter != time.Minute {
		t.Errorf("third request of a: %+v", refused)
	}
	if !other.Allowed {
		t.Errorf("first request of b: %+v", other)
	}
	clock.advance(time.Minute)
	if d := allow("a"); !d.Allowed {
		t.Errorf("a minute later: %+v", d)
	}
}

func TestMemoryForgetsFullBuckets(t *testing.T) {
	t.Parallel()
	clock := &fakeClock{}
	m := newMemory(clock.read)
	r := Rate{Limit: 10, Per: time.Second, Burst: 10}
	// Given buckets of many keys, used once each
	for _, k := range []string{"a", "b", "c"} {
		if _, err := m.Allow(context.Background(), k, r); err != nil {
			t.Fatal(err)
		}
	}
	// When they are full again and a sweep is due
	clock.advance(sweepEvery)
	if _, err := m.Allow(context.Background(), "d", r); err != nil {
		t.Fatal(err)
	}
	// Then only the bucket in use is kept
	m.mu.Lock()
	defer m.mu.Unlock()
	if len(m.buckets) != 1 || m.buckets["d"] == 0 {
		t.Errorf("buckets after the sweep: %v", m.buckets)
	}
}
