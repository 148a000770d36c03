package ratelimit

import (
	"context"
	"sync"
	"time"
)

// sweepEvery is how often Memory forgets the buckets that are full again,
// which need no state; also whenever their number has doubled since, so
// that callers spread over many keys (addresses) cannot grow it unchecked
// in between.
const sweepEvery = 10 * time.Second

// Memory keeps the buckets in the process: each replica counts on its own.
type Memory struct {
	now func() int64 // microseconds on a monotonic clock

	mu        sync.Mutex
	buckets   map[string]int64 // key → when its bucket is full again
	sweptAt   int64
	sweptSize int
}

// NewMemory returns an empty in-memory limiter.
func NewMemory() *Memory {
	start := time.Now()
	return newMemory(func() int64 { return time.Since(start).Microseconds() })
}

func newMemory(now func() int64) *Memory {
	return &Memory{now: now, buckets: map[string]int64{}, sweptAt: now()}
}

// Allow counts a request against key's bucket of rate r. It never fails.
func (m *Memory) Allow(_ context.Context, key string, r Rate) (Decision, error) {
	now := m.now()
	m.mu.Lock()
	defer m.mu.Unlock()
	next, d := r.admit(m.buckets[key], now)
	m.buckets[key] = next
	if now-m.sweptAt >= sweepEvery.Microseconds() || len(m.buckets) > 2*m.sweptSize+1024 {
		m.sweep(now)
	}
	return d, nil
}

// sweep drops the buckets that are full by now: a missing bucket is a
// full one.
func (m *Memory) sweep(now int64) {
	for k, fullAt := range m.buckets {
		if fullAt <= now {
			delete(m.buckets, k)
		}
	}
	m.sweptAt, m.sweptSize = now, len(m.buckets)
}
