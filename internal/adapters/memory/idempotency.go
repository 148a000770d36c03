package memory

import (
	"context"
	"fmt"
	"time"

	"github.com/orderapi/orderapi/internal/app"
)

// claimKey is a key as its principal claimed it: keys are scoped by
// principal.
type claimKey struct{ principal, key string }

// claim is a claimed key's record, remembered until expires.
type claim struct {
	rec     app.IdempotencyRecord
	expires time.Time
}

// LookupIdempotency returns the record of the commit by which principal
// claimed key, unless its claim has expired.
func (s *Store) LookupIdempotency(ctx context.Context, principal, key string) (app.IdempotencyRecord, bool, error) {
	if err := ctx.Err(); err != nil {
		return app.IdempotencyRecord{}, false, fmt.Errorf("look up idempotency key: %w", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	k := claimKey{principal, key}
	if !s.held(k) {
		return app.IdempotencyRecord{}, false, nil
	}
	return s.claims[k].rec, true, nil
}

// held reports whether an unexpired claim holds k, and forgets an expired
// one. The caller holds s.mu.
func (s *Store) held(k claimKey) bool {
	c, ok := s.claims[k]
	if ok && !time.Now().Before(c.expires) {
		delete(s.claims, k)
		return false
	}
	return ok
}
