package ratelimit

import (
	"bytes"
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/orderapi/orderapi/internal/adapters/ratelimit/redistest"
	"github.com/redis/go-redis/v9"
	"github.com/rs/zerolog"
)

func newRedis(t *testing.T, client redis.Scripter, prefix string) *Redis {
	t.Helper()
	l, err := NewRedis(RedisConfig{Client: client, Prefix: prefix, Log: zerolog.New(zerolog.NewTestWriter(t))})
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// TestRedisDecidesAsMemoryDoes: the script and the Go code are one
// algorithm; a slow rate keeps the time between requests out of it.
func TestRedisDecidesAsMemoryDoes(t *testing.T) {
	t.Parallel()
	client, prefix := redistest.New(t)
	shared, local := newRedis(t, client, prefix), NewMemory()
	r := Rate{Limit: 1, Per: time.Hour, Burst: 3}
	for i := range 5 {
		want, _ := local.Allow(context.Background(), "k", r)
		got, err := shared.Allow(context.Background(), "k", r)
		if err != nil {
			t.Fatal(err)
		}
		if got.Allowed != want.Allowed || !near(got.RetryAfter, want.RetryAfter) {
			t.Errorf("request %d: redis %+v, memory %+v", i+1, got, want)
		}
	}
}

func near(a, b time.Duration) bool { return (a - b).Abs() < time.Second }

// TestRedisRefillsAndExpires: a refused caller that waits RetryAfter gets
// through, and a bucket's key lasts only until the bucket is full again.
func TestRedisRefillsAndExpires(t *testing.T) {
	t.Parallel()
	client, prefix := redistest.New(t)
	l := newRedis(t, client, prefix)
	r := Rate{Limit: 20, Per: time.Second, Burst: 1} // one per 50 ms
	ctx := context.Background()
	if d, err := l.Allow(ctx, "k", r); err != nil || !d.Allowed {
		t.Fatalf("first request: %+v, %v", d, err)
	}
	ttl, err := client.PTTL(ctx, prefix+"k").Result()
	if err != nil || ttl <= 0 || ttl > 50*time.Millisecond {
		t.Errorf("the bucket's key expires in %s (%v), want within 50ms", ttl, err)
	}
	d, err := l.Allow(ctx, "k", r)
	if err != nil || d.Allowed || d.RetryAfter <= 0 || d.RetryAfter > 50*time.Millisecond {
		t.Fatalf("second request at once: %+v, %v", d, err)
	}
	time.Sleep(d.RetryAfter)
	if d, err := l.Allow(ctx, "k", r); err != nil || !d.Allowed {
		t.Errorf("after RetryAfter: %+v, %v", d, err)
	}
}

// TestRedisIsSharedAndAtomic: limiters on two connections, as two replicas
// have, count against one bucket, and racing requests never take more
// than the burst.
func TestRedisIsSharedAndAtomic(t *testing.T) {
	t.Parallel()
	client, prefix := redistest.New(t)
	other := redis.NewClient(client.Options())
	t.Cleanup(func() { _ = other.Close() })
	replicas := []*Redis{newRedis(t, client, prefix), newRedis(t, other, prefix)}
	r := Rate{Limit: 1, Per: time.Hour, Burst: 10}

	var (
		wg      sync.WaitGroup
		mu      sync.Mutex
		allowed int
	)
	for i := range 40 {
		wg.Go(func() {
			d, err := replicas[i%2].Allow(context.Background(), "k", r)
			if err != nil {
				t.Error(err)
				return
			}
			if d.Allowed {
				mu.Lock()
				allowed++
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if allowed != r.Burst {
		t.Errorf("%d of 40 requests allowed, want the burst of %d", allowed, r.Burst)
	}
}

// TestRedisDownIsCountedAndLoggedSparingly: every request it cannot decide
// is an error and counted; the log says so once per period, not per
// request.
func TestRedisDownIsCountedAndLoggedSparingly(t *testing.T) {
	t.Parallel()
	// Given a limiter whose server is gone
	var logs bytes.Buffer
	l, err := NewRedis(RedisConfig{Client: redistest.DownClient(t), Log: zerolog.New(&logs)})
	if err != nil {
		t.Fatal(err)
	}
	// When requests ask it
	for range 3 {
		if _, err := l.Allow(context.Background(), "k", Rate{Limit: 1, Per: time.Second, Burst: 1}); err == nil {
			t.Fatal("a limiter without a server decided")
		}
	}
	// Then each is counted, and logged once
	if n := l.Failures(); n != 3 {
		t.Errorf("Failures() = %d, want 3", n)
	}
	if lines := strings.Count(logs.String(), "\n"); lines != 1 || !strings.Contains(logs.String(), `"failures":1`) {
		t.Errorf("log:\n%s", logs.String())
	}
}
