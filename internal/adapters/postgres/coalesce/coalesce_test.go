package coalesce

import (
	"context"
	"errors"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
)

// gatedFetch is a fetch that records each batch of keys and holds it
// until the test opens the gate, then answers each key k with k*10, or
// with errMissing for the keys in missing.
type gatedFetch struct {
	gate    chan struct{}
	missing map[int]bool
	fail    error

	mu      sync.Mutex
	batches [][]int
	ctxs    []context.Context
	started chan struct{} // one send per fetch started
}

var errMissing = errors.New("missing")

func newGatedFetch() *gatedFetch {
	return &gatedFetch{gate: make(chan struct{}), started: make(chan struct{}, 1024), missing: map[int]bool{}}
}

func (f *gatedFetch) fetch(ctx context.Context, keys []int) ([]Result[int], error) {
	f.mu.Lock()
	f.batches = append(f.batches, slices.Clone(keys))
	f.ctxs = append(f.ctxs, ctx)
	f.mu.Unlock()
	f.started <- struct{}{}
	select {
	case <-f.gate:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	if f.fail != nil {
		return nil, f.fail
	}
	rs := make([]Result[int], len(keys))
	for i, k := range keys {
		if f.missing[k] {
			rs[i].Err = errMissing
			continue
		}
		rs[i].Value = k * 10
	}
	return rs, nil
}

func (f *gatedFetch) batch(i int) []int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.batches[i]
}

// answer is what one Get returned.
type answer struct {
	key, value int
	err        error
}

// waiting is how many calls wait in c for a fetch.
func (c *Coalescer[K, V]) waiting() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := 0
	for _, cl := range c.pending {
		if !cl.gone {
			n++
		}
	}
	return n
}

func (c *Coalescer[K, V]) isClosed() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.closed
}

// untilWaiting yields until n calls wait in c.
func untilWaiting[K comparable, V any](c *Coalescer[K, V], n int) {
	for c.waiting() != n {
		runtime.Gosched()
	}
}

// getAsync starts a Get and delivers its answer on the returned channel.
func getAsync(ctx context.Context, c *Coalescer[int, int], key int) <-chan answer {
	out := make(chan answer, 1)
	go func() {
		v, err := c.Get(ctx, key)
		out <- answer{key, v, err}
	}()
	return out
}

// busy returns a coalescer of f with one fetch at a time, and that one
// fetch started, for key 0, and held: every Get after it waits.
func busy(t *testing.T, f *gatedFetch, maxBatch int) (*Coalescer[int, int], <-chan answer) {
	t.Helper()
	c := New(f.fetch, Config{MaxInFlight: 1, MaxBatch: maxBatch})
	first := getAsync(context.Background(), c, 0)
	<-f.started
	return c, first
}

func TestAnIdleCoalescerFetchesAtOnceInTheCallersContext(t *testing.T) {
	// Given a coalescer with nothing in flight
	f := newGatedFetch()
	close(f.gate)
	c := New(f.fetch, Config{})
	type key struct{}
	ctx := context.WithValue(context.Background(), key{}, "mine")

	// When a key is looked up
	v, err := c.Get(ctx, 7)

	// Then it is fetched alone, in the caller's context, and answered
	if err != nil || v != 70 {
		t.Fatalf("Get(7) = %d, %v; want 70", v, err)
	}
	if got := f.batch(0); !slices.Equal(got, []int{7}) {
		t.Errorf("fetched %v, want [7]", got)
	}
	if f.ctxs[0].Value(key{}) != "mine" {
		t.Errorf("the fetch did not run in the caller's context")
	}
	c.Close()
}

func TestLookupsThatArriveDuringAFetchAreFetchedTogether(t *testing.T) {
	// Given a fetch in flight, and five look-ups waiting for it, one of
	// them a key asked twice and one missing
	f := newGatedFetch()
	f.missing[4] = true
	c, first := busy(t, f, 0)
	var waits []<-chan answer
	for i, k := range []int{1, 2, 3, 2, 4} {
		waits = append(waits, getAsync(context.Background(), c, k))
		untilWaiting(c, i+1)
	}

	// When the fetch in flight ends
	close(f.gate)

	// Then the five are answered by one fetch of the distinct keys, each
	// with its own answer
	if a := <-first; a.err != nil || a.value != 0 {
		t.Errorf("first Get = %d, %v", a.value, a.err)
	}
	for _, w := range waits {
		a := <-w
		switch {
		case a.key == 4 && !errors.Is(a.err, errMissing):
			t.Errorf("Get(4) = %d, %v; want errMissing", a.value, a.err)
		case a.key != 4 && (a.err != nil || a.value != a.key*10):
			t.Errorf("Get(%d) = %d, %v; want %d", a.key, a.value, a.err, a.key*10)
		}
	}
	if len(f.batches) != 2 || !slices.Equal(f.batch(1), []int{1, 2, 3, 4}) {
		t.Errorf("fetches %v, want [[0] [1 2 3 4]]", f.batches)
	}
	c.Close()
}

func TestAFetchHoldsAtMostMaxBatchKeys(t *testing.T) {
	// Given a fetch in flight and seven look-ups waiting, with three keys
	// a fetch
	f := newGatedFetch()
	c, first := busy(t, f, 3)
	var waits []<-chan answer
	for k := 1; k <= 7; k++ {
		waits = append(waits, getAsync(context.Background(), c, k))
		untilWaiting(c, k)
	}

	// When the fetches run
	close(f.gate)

	// Then they take the waiting keys oldest first, three at a time
	<-first
	for _, w := range waits {
		if a := <-w; a.err != nil || a.value != a.key*10 {
			t.Errorf("Get(%d) = %d, %v", a.key, a.value, a.err)
		}
	}
	want := [][]int{{0}, {1, 2, 3}, {4, 5, 6}, {7}}
	if !slices.EqualFunc(f.batches, want, slices.Equal) {
		t.Errorf("fetches %v, want %v", f.batches, want)
	}
	c.Close()
}

func TestAFetchErrorReachesEveryCallerOfThatFetch(t *testing.T) {
	// Given a fetch in flight and three look-ups waiting, when the
	// database fails
	f := newGatedFetch()
	f.fail = errors.New("connection reset")
	c, first := busy(t, f, 0)
	var waits []<-chan answer
	for k := 1; k <= 3; k++ {
		waits = append(waits, getAsync(context.Background(), c, k))
	}
	untilWaiting(c, 3)

	// When the fetches end
	close(f.gate)

	// Then every caller gets the error
	for _, w := range append(waits, first) {
		if a := <-w; !errors.Is(a.err, f.fail) {
			t.Errorf("Get(%d) = %d, %v; want %v", a.key, a.value, a.err, f.fail)
		}
	}
	c.Close()
}

func TestACallerThatGivesUpDoesNotFailTheOthers(t *testing.T) {
	t.Run("while waiting for a fetch to start", func(t *testing.T) {
		// Given a fetch in flight and three look-ups waiting
		f := newGatedFetch()
		c, first := busy(t, f, 0)
		ctx, cancel := context.WithCancel(context.Background())
		gone := getAsync(ctx, c, 1)
		untilWaiting(c, 1)
		stay := []<-chan answer{getAsync(context.Background(), c, 2)}
		untilWaiting(c, 2)
		stay = append(stay, getAsync(context.Background(), c, 3))
		untilWaiting(c, 3)

		// When the first of them gives up, then the fetch ends
		cancel()
		if a := <-gone; !errors.Is(a.err, context.Canceled) {
			t.Errorf("cancelled Get = %d, %v; want context.Canceled", a.value, a.err)
		}
		close(f.gate)

		// Then the others are answered, and the key no one waits for is
		// not fetched
		<-first
		for _, w := range stay {
			if a := <-w; a.err != nil || a.value != a.key*10 {
				t.Errorf("Get(%d) = %d, %v", a.key, a.value, a.err)
			}
		}
		if got := f.batch(1); !slices.Equal(got, []int{2, 3}) {
			t.Errorf("second fetch %v, want [2 3]", got)
		}
		c.Close()
	})

	t.Run("while its fetch runs", func(t *testing.T) {
		// Given a fetch of three callers' keys in flight
		f := newGatedFetch()
		c, first := busy(t, f, 0)
		ctx, cancel := context.WithCancel(context.Background())
		gone := getAsync(ctx, c, 1)
		untilWaiting(c, 1)
		other := getAsync(context.Background(), c, 2)
		untilWaiting(c, 2)
		// The first fetch ends, and the next starts, with keys 1 and 2.
		f.gate <- struct{}{}
		<-first
		<-f.started

		// When one caller of the running fetch gives up
		cancel()
		if a := <-gone; !errors.Is(a.err, context.Canceled) {
			t.Errorf("cancelled Get = %d, %v; want context.Canceled", a.value, a.err)
		}

		// Then the fetch goes on for the other, who is answered
		if err := f.ctxs[1].Err(); err != nil {
			t.Errorf("the fetch's context ended with one caller still waiting: %v", err)
		}
		close(f.gate)
		if a := <-other; a.err != nil || a.value != 20 {
			t.Errorf("Get(2) = %d, %v; want 20", a.value, a.err)
		}
		c.Close()
	})

	t.Run("every caller of a fetch", func(t *testing.T) {
		// Given a fetch of two callers' keys in flight
		f := newGatedFetch()
		c, first := busy(t, f, 0)
		ctx, cancel := context.WithCancel(context.Background())
		a1, a2 := getAsync(ctx, c, 1), getAsync(ctx, c, 2)
		untilWaiting(c, 2)
		f.gate <- struct{}{}
		<-first
		<-f.started

		// When both give up
		cancel()
		<-a1
		<-a2

		// Then the fetch's context ends, the fetch with it, and Close
		// finds nothing left running
		<-f.ctxs[1].Done()
		c.Close()
	})
}

func TestAPanickingFetchIsAnErrorOfItsCallers(t *testing.T) {
	// Given a fetch that panics on key 13, in flight with a caller waiting
	f := newGatedFetch()
	c := New(func(ctx context.Context, keys []int) ([]Result[int], error) {
		if slices.Contains(keys, 13) {
			panic("bad row")
		}
		return f.fetch(ctx, keys)
	}, Config{MaxInFlight: 1})
	first := getAsync(context.Background(), c, 0)
	<-f.started
	waiting := getAsync(context.Background(), c, 13)
	untilWaiting(c, 1)

	// When it runs
	close(f.gate)

	// Then its caller gets an error, the process lives on, and so does
	// the coalescer
	<-first
	if a := <-waiting; a.err == nil {
		t.Errorf("Get(13) = %d, nil; want an error", a.value)
	}
	if v, err := c.Get(context.Background(), 5); err != nil || v != 50 {
		t.Errorf("Get(5) after the panic = %d, %v", v, err)
	}
	c.Close()
}

func TestAFetchThatAnswersTooFewKeysFailsItsCallers(t *testing.T) {
	c := New(func(context.Context, []int) ([]Result[int], error) { return nil, nil }, Config{})
	if _, err := c.Get(context.Background(), 1); err == nil {
		t.Error("Get = nil error, want one: the fetch answered nothing")
	}
	c.Close()
}

func TestCloseWaitsForTheFetchesInFlightAndRefusesMore(t *testing.T) {
	// Given a fetch in flight and a caller waiting for the next
	f := newGatedFetch()
	c, first := busy(t, f, 0)
	waiting := getAsync(context.Background(), c, 1)
	untilWaiting(c, 1)

	// When the coalescer is closed
	closed := make(chan struct{})
	go func() { c.Close(); close(closed) }()

	// Then it refuses new look-ups, answers the one waiting, and Close
	// returns once both fetches are done
	for !c.isClosed() {
		runtime.Gosched()
	}
	if _, err := c.Get(context.Background(), 2); !errors.Is(err, ErrClosed) {
		t.Errorf("Get after Close = %v, want ErrClosed", err)
	}
	close(f.gate)
	<-closed
	for _, w := range []<-chan answer{first, waiting} {
		if a := <-w; a.err != nil || a.value != a.key*10 {
			t.Errorf("Get(%d) = %d, %v", a.key, a.value, a.err)
		}
	}
}

func TestConcurrentLookupsAreAnsweredCorrectly(t *testing.T) {
	// Given many callers looking up keys at once, some missing, through
	// fetches of at most 8 keys that sometimes fail
	var largest atomic.Int64
	c := New(func(ctx context.Context, keys []int) ([]Result[int], error) {
		for n := int64(len(keys)); n > largest.Load(); {
			if largest.CompareAndSwap(largest.Load(), n) {
				break
			}
		}
		if keys[0]%97 == 0 {
			return nil, errFetch
		}
		rs := make([]Result[int], len(keys))
		for i, k := range keys {
			if k%5 == 0 {
				rs[i].Err = errMissing
			} else {
				rs[i].Value = -k
			}
			runtime.Gosched()
		}
		return rs, nil
	}, Config{MaxBatch: 8, MaxInFlight: 2})

	// When they are answered
	var wg sync.WaitGroup
	for g := range 32 {
		wg.Go(func() {
			for i := range 300 {
				k := g*1000 + i%50
				v, err := c.Get(context.Background(), k)
				switch {
				case errors.Is(err, errFetch):
				case k%5 == 0 && !errors.Is(err, errMissing):
					t.Errorf("Get(%d) = %d, %v; want errMissing", k, v, err)
				case k%5 != 0 && (err != nil || v != -k):
					t.Errorf("Get(%d) = %d, %v; want %d", k, v, err, -k)
				}
			}
		})
	}
	wg.Wait()
	c.Close()

	// Then every answer was the key's own, and no fetch held more than 8
	if n := largest.Load(); n > 8 {
		t.Errorf("a fetch held %d keys, more than 8", n)
	}
	t.Logf("the largest fetch held %d keys", largest.Load())
}

var errFetch = errors.New("fetch failed")
