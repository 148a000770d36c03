package app

import (
	"github.com/google/uuid"
	"github.com/orderapi/orderapi/internal/domain/order"
)

// DefaultStateCacheSize is how many order states a Service keeps by
// default; see Config.StateCacheSize.
const DefaultStateCacheSize = 4096

// stateCache keeps the state each recent command left its order in, so
// that the next command on the order can decide without loading it. It is
// only ever a guess: another process may have appended since. The append's
// expected version catches that, and a command that started from a cached
// state and failed for any reason — a lost race, a rule, a precondition —
// is decided again on a fresh load before anyone is told. So a stale entry
// costs a retry, never a wrong answer.
//
// There is one small set of entries per lock stripe, used only by the
// holder of the stripe's lock, so the cache needs no lock of its own.
type stateCache struct {
	ways    int
	stripes [lockStripes]cacheSet
}

type cacheSet struct {
	entries []order.Order
	next    int // the entry to replace next: the oldest
}

// newStateCache returns a cache of about size states; nil (no cache) for
// size 0.
func newStateCache(size int) *stateCache {
	if size <= 0 {
		return nil
	}
	return &stateCache{ways: max(1, (size+lockStripes-1)/lockStripes)}
}

// get returns a copy of the cached state of order id; the caller holds
// the order's stripe lock.
func (c *stateCache) get(id uuid.UUID) (order.Order, bool) {
	if c == nil {
		return order.Order{}, false
	}
	set := &c.stripes[lockStripe(id)]
	for _, o := range set.entries {
		if o.ID == id && o.Version > 0 {
			return o.Clone(), true
		}
	}
	return order.Order{}, false
}

// put keeps a copy of o, replacing the order's entry or the set's oldest.
func (c *stateCache) put(o order.Order) {
	if c == nil {
		return
	}
	set := &c.stripes[lockStripe(o.ID)]
	for i := range set.entries {
		if set.entries[i].ID == o.ID {
			set.entries[i] = o.Clone()
			return
		}
	}
	if len(set.entries) < c.ways {
		set.entries = append(set.entries, o.Clone())
		return
	}
	set.entries[set.next] = o.Clone()
	set.next = (set.next + 1) % c.ways
}

// dropIn forgets the orders of stripe i that match; the caller holds the
// stripe's lock.
func (c *stateCache) dropIn(i int, match func(*order.Order) bool) {
	set := &c.stripes[i]
	for j := range set.entries {
		if set.entries[j].Version > 0 && match(&set.entries[j]) {
			set.entries[j] = order.Order{}
		}
	}
}

// drop forgets order id.
func (c *stateCache) drop(id uuid.UUID) {
	if c == nil {
		return
	}
	set := &c.stripes[lockStripe(id)]
	for i := range set.entries {
		if set.entries[i].ID == id {
			set.entries[i] = order.Order{}
		}
	}
}
