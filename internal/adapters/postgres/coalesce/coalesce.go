// Package coalesce answers concurrent look-ups of single keys with fewer,
// larger look-ups. A look-up that finds a free slot runs at once, alone,
// so an idle service adds no wait; one that finds every slot busy waits
// for one to free, together with every other that arrived meanwhile, and
// all of them are then fetched at once. Under load a database then runs
// one statement for many requests, and pays its per-statement cost
// (protocol, wake-ups, the executor's start and end) once for them all.
//
// A look-up never joins a fetch that has already started: whatever was
// committed before Get was called is seen by its answer.
package coalesce

import (
	"context"
	"errors"
	"fmt"
	"runtime/debug"
	"sync"
)

// ErrClosed is Get's answer once Close has been called.
var ErrClosed = errors.New("coalesce: closed")

// Result answers one key of a fetch: its value, or an error of its own
// (such as not found), which fails that key alone.
type Result[V any] struct {
	Value V
	Err   error
}

// Fetch looks up distinct keys in one go; results[i] answers keys[i]. An
// error it returns fails every key of the fetch. ctx carries the values of
// the first caller's context, but not its cancellation: it ends only when
// every caller of the fetch has given up.
type Fetch[K comparable, V any] func(ctx context.Context, keys []K) ([]Result[V], error)

// Config bounds a Coalescer. The zero value is usable.
type Config struct {
	// MaxBatch bounds the keys of one fetch; DefaultMaxBatch if below 1.
	MaxBatch int
	// MaxInFlight bounds the fetches running at once; DefaultMaxInFlight
	// if below 1. Fewer means larger batches: less work per key for the
	// database, and a longer wait for a busy one.
	MaxInFlight int
}

// The bounds a zero Config stands for.
const (
	DefaultMaxBatch    = 64
	DefaultMaxInFlight = 1
)

// Coalescer runs the look-ups of one Fetch. Its zero value is not usable:
// make one with New.
type Coalescer[K comparable, V any] struct {
	fetch                 Fetch[K, V]
	maxBatch, maxInFlight int

	mu       sync.Mutex
	inFlight int
	pending  []*call[K, V]
	closed   bool
	// slots counts the fetches in flight, so that Close can wait for
	// them. A slot passes from one fetch to the next without leaving it.
	slots sync.WaitGroup
}

// call is one waiting Get.
type call[K comparable, V any] struct {
	ctx  context.Context
	key  K
	done chan struct{} // closed once res is set
	res  Result[V]
	// gone and batch are guarded by the Coalescer's mu.
	gone  bool
	batch *batch
}

// batch is a fetch's hold on its context: it is cancelled when the last
// of its callers gives up.
type batch struct {
	live   int // guarded by the Coalescer's mu
	cancel context.CancelFunc
}

// New returns a Coalescer of fetch.
func New[K comparable, V any](fetch Fetch[K, V], cfg Config) *Coalescer[K, V] {
	c := &Coalescer[K, V]{fetch: fetch, maxBatch: cfg.MaxBatch, maxInFlight: cfg.MaxInFlight}
	if c.maxBatch < 1 {
		c.maxBatch = DefaultMaxBatch
	}
	if c.maxInFlight < 1 {
		c.maxInFlight = DefaultMaxInFlight
	}
	return c
}

// Get looks key up: at once, in the caller's goroutine and context, when
// fewer than MaxInFlight fetches run; otherwise in the next fetch that
// starts. When ctx ends first, Get returns its error and the others
// waiting with it are answered as if it had not asked.
func (c *Coalescer[K, V]) Get(ctx context.Context, key K) (V, error) {
	var zero V
	if err := ctx.Err(); err != nil {
		return zero, err
	}
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return zero, ErrClosed
	}
	if c.inFlight < c.maxInFlight {
		c.inFlight++
		c.slots.Add(1)
		c.mu.Unlock()
		return c.alone(ctx, key)
	}
	cl := &call[K, V]{ctx: ctx, key: key, done: make(chan struct{})}
	c.pending = append(c.pending, cl)
	c.mu.Unlock()
	select {
	case <-cl.done:
		return cl.res.Value, cl.res.Err
	case <-ctx.Done():
		c.leave(cl)
		return zero, ctx.Err()
	}
}

// Close refuses further look-ups and waits for the fetches in flight to
// end, and with them every goroutine the Coalescer started. Callers
// waiting are still answered.
func (c *Coalescer[K, V]) Close() {
	c.mu.Lock()
	c.closed = true
	c.mu.Unlock()
	c.slots.Wait()
}

// alone fetches key by itself, then hands its slot to whatever waits.
func (c *Coalescer[K, V]) alone(ctx context.Context, key K) (V, error) {
	defer c.release()
	rs, err := c.run(ctx, []K{key})
	if err != nil {
		var zero V
		return zero, err
	}
	return rs[0].Value, rs[0].Err
}

// release passes a slot that has finished its fetch to the calls that
// wait, in a goroutine that runs fetches while there are any, or frees it.
func (c *Coalescer[K, V]) release() {
	if next := c.next(); next != nil {
		go c.drain(next)
	}
}

// drain runs fetches for waiting calls until none wait.
func (c *Coalescer[K, V]) drain(t *taken[K, V]) {
	for t != nil {
		c.answer(t)
		t = c.next()
	}
}

// taken is the calls of one fetch and its context.
type taken[K comparable, V any] struct {
	ctx   context.Context
	batch *batch
	calls []*call[K, V]
}

// next takes up to MaxBatch of the waiting calls, oldest first, for the
// slot that has just finished; with none waiting, it frees the slot.
func (c *Coalescer[K, V]) next() *taken[K, V] {
	c.mu.Lock()
	defer c.mu.Unlock()
	var calls []*call[K, V]
	n := 0
	for ; n < len(c.pending) && len(calls) < c.maxBatch; n++ {
		if cl := c.pending[n]; !cl.gone {
			calls = append(calls, cl)
		}
	}
	left := copy(c.pending, c.pending[n:])
	clear(c.pending[left:])
	c.pending = c.pending[:left]
	if len(calls) == 0 {
		c.inFlight--
		c.slots.Done()
		return nil
	}
	// The fetch keeps the first caller's values (its logger, its trace),
	// not its cancellation: it serves the others too.
	ctx, cancel := context.WithCancel(context.WithoutCancel(calls[0].ctx))
	b := &batch{live: len(calls), cancel: cancel}
	for _, cl := range calls {
		cl.batch = b
	}
	return &taken[K, V]{ctx: ctx, batch: b, calls: calls}
}

// leave is a waiting call giving up: it is left out of the fetch it
// would join, and the fetch it is in ends if no one else waits for it.
func (c *Coalescer[K, V]) leave(cl *call[K, V]) {
	c.mu.Lock()
	cl.gone = true
	b := cl.batch
	last := false
	if b != nil {
		b.live--
		last = b.live == 0
	}
	c.mu.Unlock()
	if last {
		b.cancel()
	}
}

// answer runs one fetch for t's calls, each distinct key once, and
// answers every call.
func (c *Coalescer[K, V]) answer(t *taken[K, V]) {
	keys := make([]K, 0, len(t.calls))
	at := make([]int, len(t.calls))
	for i, cl := range t.calls {
		j := -1
		for k, key := range keys {
			if key == cl.key {
				j = k
				break
			}
		}
		if j < 0 {
			j = len(keys)
			keys = append(keys, cl.key)
		}
		at[i] = j
	}
	rs, err := c.run(t.ctx, keys)
	t.batch.cancel()
	for i, cl := range t.calls {
		if err != nil {
			cl.res.Err = err
		} else {
			cl.res = rs[at[i]]
		}
		close(cl.done)
	}
}

// run calls fetch, holding it to its contract: one result per key. A
// panic is an error of the fetch, so that it reaches its callers instead
// of ending the process from a goroutine no handler guards.
func (c *Coalescer[K, V]) run(ctx context.Context, keys []K) (rs []Result[V], err error) {
	defer func() {
		if p := recover(); p != nil {
			rs, err = nil, fmt.Errorf("coalesce: fetch of %d keys panicked: %v\n%s", len(keys), p, debug.Stack())
		}
	}()
	rs, err = c.fetch(ctx, keys)
	if err == nil && len(rs) != len(keys) {
		return nil, fmt.Errorf("coalesce: fetch answered %d of %d keys", len(rs), len(keys))
	}
	return rs, err
}
