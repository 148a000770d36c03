package jwtauth

import (
	"crypto/sha256"
	"sync"
	"time"

	"github.com/orderapi/orderapi/internal/app"
)

// sweepEvery is the least time between two sweeps of expired tokens from
// a full cache: a sweep reads every entry.
const sweepEvery = time.Minute

// tokenCache remembers verified tokens, by their SHA-256, until they
// expire. It holds at most max of them: a full cache first drops the
// expired ones (at most once per sweepEvery), then one entry at random
// per token added. Random eviction costs nothing to keep up and cannot be
// steered into evicting a chosen token.
type tokenCache struct {
	mu        sync.RWMutex
	max       int
	gen       uint64 // of the key set the entries were verified with
	entries   map[[sha256.Size]byte]cachedToken
	lastSweep time.Time
}

type cachedToken struct {
	p   app.Principal
	exp time.Time
}

func newTokenCache(maxEntries int) *tokenCache {
	return &tokenCache{max: maxEntries, entries: make(map[[sha256.Size]byte]cachedToken)}
}

// get returns the principal of a token verified before that has not
// expired at now.
func (c *tokenCache) get(key [sha256.Size]byte, now time.Time) (app.Principal, bool) {
	c.mu.RLock()
	e, ok := c.entries[key]
	c.mu.RUnlock()
	if !ok || !now.Before(e.exp) {
		return app.Principal{}, false
	}
	return e.p, true
}

// put remembers a token verified with the key set of generation gen,
// until exp; a token of another generation than the cache's is not kept.
func (c *tokenCache) put(key [sha256.Size]byte, p app.Principal, exp time.Time, gen uint64, now time.Time) {
	if !now.Before(exp) {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if gen != c.gen {
		return
	}
	if _, ok := c.entries[key]; !ok && len(c.entries) >= c.max {
		if now.Sub(c.lastSweep) >= sweepEvery {
			c.lastSweep = now
			for k, e := range c.entries {
				if !now.Before(e.exp) {
					delete(c.entries, k)
				}
			}
		}
		for k := range c.entries {
			if len(c.entries) < c.max {
				break
			}
			delete(c.entries, k)
		}
	}
	c.entries[key] = cachedToken{p: p, exp: exp}
}

// reset forgets every token: the key set is now of generation gen.
func (c *tokenCache) reset(gen uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen = gen
	clear(c.entries)
}

// len is how many tokens the cache holds.
func (c *tokenCache) len() int {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return len(c.entries)
}
