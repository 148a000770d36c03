package app

import (
	"time"

	"github.com/google/uuid"
	"github.com/orderapi/orderapi/internal/domain/order"
)

// DefaultStateCacheSize is how many order states a Service keeps by
// default; see Config.StateCacheSize.
const DefaultStateCacheSize = 4096

// DefaultStateMaxAge is how long after its load a kept state may decide
// commands by default; see Config.StateMaxAge.
const DefaultStateMaxAge = 15 * time.Second

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
//
// A state holds its customer's personal data as it was opened when the
// state was loaded, and the commands that start from it carry that on:
// so a state is used for maxAge after its load at most, however busy its
// order, and a replica that did not hear of an erasure stops answering
// with the erased data within that.
type stateCache struct {
	ways    int
	maxAge  time.Duration
	stripes [lockStripes]cacheSet
}

type cacheSet struct {
	entries []keptState
	next    int // the entry to replace next: the oldest
}

// keptState is a state kept, and when the state it grew from was loaded.
type keptState struct {
	order.Order
	loaded time.Time
}

// newStateCache returns a cache of about size states, each used for
// maxAge after its load; nil (no cache) for size 0.
func newStateCache(size int, maxAge time.Duration) *stateCache {
	if size <= 0 {
		return nil
	}
	return &stateCache{ways: max(1, (size+lockStripes-1)/lockStripes), maxAge: maxAge}
}

// get returns a copy of the cached state of order id, with when the state
// it grew from was loaded, unless that was maxAge ago or more; the caller
// holds the order's stripe lock.
func (c *stateCache) get(id uuid.UUID) (keptState, bool) {
	if c == nil {
		return keptState{}, false
	}
	set := &c.stripes[lockStripe(id)]
	for i := range set.entries {
		k := &set.entries[i]
		if k.ID != id || k.Version == 0 {
			continue
		}
		if time.Since(k.loaded) >= c.maxAge {
			*k = keptState{}
			return keptState{}, false
		}
		return keptState{Order: k.Clone(), loaded: k.loaded}, true
	}
	return keptState{}, false
}

// put keeps a copy of o, grown from a state loaded at loaded, replacing
// the order's entry or the set's oldest.
func (c *stateCache) put(o order.Order, loaded time.Time) {
	if c == nil {
		return
	}
	k := keptState{Order: o.Clone(), loaded: loaded}
	set := &c.stripes[lockStripe(o.ID)]
	for i := range set.entries {
		if set.entries[i].ID == o.ID {
			set.entries[i] = k
			return
		}
	}
	if len(set.entries) < c.ways {
		set.entries = append(set.entries, k)
		return
	}
	set.entries[set.next] = k
	set.next = (set.next + 1) % c.ways
}

// dropIn forgets the orders of stripe i that match; the caller holds the
// stripe's lock.
func (c *stateCache) dropIn(i int, match func(*order.Order) bool) {
	set := &c.stripes[i]
	for j := range set.entries {
		if set.entries[j].Version > 0 && match(&set.entries[j].Order) {
			set.entries[j] = keptState{}
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
			set.entries[i] = keptState{}
		}
	}
}
