package app

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
)

// DefaultIdempotencyTTL is how long an idempotency key is remembered when
// Config.IdempotencyTTL is zero.
const DefaultIdempotencyTTL = 24 * time.Hour

// Idempotency is a request's Idempotency-Key and the fingerprint of the
// request that carries it. The zero value (no Key) asks for nothing.
//
// Keys are scoped by principal: one principal's key never answers another
// principal's request, whatever its value. A retry must send the same
// request: the same key with another fingerprint is
// ErrIdempotencyKeyReused.
type Idempotency struct {
	Key string
	// Fingerprint is a digest of what makes the request this request, as
	// a new claim stores it; the HTTP adapter decides what that is, and
	// how it is keyed.
	Fingerprint [32]byte
	// Earlier, if set, recognises this request's fingerprint in the forms
	// that came before Fingerprint's (under a master key since replaced,
	// or an older build's); nil, only Fingerprint is this request's.
	Earlier EarlierFingerprints
	// Principal scopes the key: the subject of the principal that claims
	// it. The Service sets it from the request's principal; whatever a
	// caller puts here is overwritten.
	Principal string
}

// scopedTo returns the key scoped by p.
func (i Idempotency) scopedTo(p Principal) Idempotency {
	i.Principal = p.Subject
	return i
}

// EarlierFingerprints recognises a request's fingerprint in forms that
// claims made before the current form may hold.
type EarlierFingerprints interface {
	// Match says whether stored is the request's fingerprint in one of
	// them.
	Match(stored [32]byte) bool
}

// fingerprints says whether a claim's stored fingerprint is this
// request's. The usual retry matches the first form.
func (i Idempotency) fingerprints(stored [32]byte) bool {
	return stored == i.Fingerprint || i.Earlier != nil && i.Earlier.Match(stored)
}

// IdempotencyRecord is what the store remembers of the commit that
// claimed a key: enough to give its answer again, since the order at a
// version never changes.
type IdempotencyRecord struct {
	Fingerprint [32]byte
	OrderID     uuid.UUID
	// Version is the order's version after the commit; Position the global
	// position of its last event.
	Version  int
	Position int64
}

// ErrKeyClaimed is what an EventStore returns (possibly wrapped) when the
// commit's idempotency key was claimed by another commit that is not
// expired. Nothing was written.
var ErrKeyClaimed = errors.New("idempotency key already claimed")

var (
	// ErrIdempotencyKeyReused: the key was claimed by a different request
	// (method, path, If-Match or body).
	ErrIdempotencyKeyReused = &Error{Code: "idempotency_key_reused",
		Message: "this Idempotency-Key was used for a different request; use a new key for a new request"}
	// ErrIdempotencyKeyInProgress: another request with the key claimed it
	// at the same moment and its answer cannot be read yet; retry.
	ErrIdempotencyKeyInProgress = &Error{Code: "idempotency_key_in_progress",
		Message: "a request with this Idempotency-Key is in progress; retry shortly"}
)

// replay answers a request whose key its principal claimed before: with
// the order as the claiming commit left it (the answer the first request
// got), or ErrIdempotencyKeyReused when the requests differ. found is
// false, with no error, when the key is free. A key claimed before
// requests had principals answers only the very same request, and only
// to a principal who may see its order; see docs/design.md, "Idempotency
// claims".
func (s *Service) replay(ctx context.Context, p Principal, idem Idempotency) (_ Result, found bool, _ error) {
	if idem.Key == "" {
		return Result{}, false, nil
	}
	idem = idem.scopedTo(p)
	rec, ok, err := s.events.LookupIdempotency(ctx, idem.Principal, idem.Key)
	legacy := false
	if err == nil && !ok && idem.Principal != "" {
		rec, ok, err = s.events.LookupIdempotency(ctx, "", idem.Key)
		legacy = true
	}
	if err != nil {
		return Result{}, false, fmt.Errorf("look up idempotency key: %w", err)
	}
	if !ok {
		return Result{}, false, nil
	}
	if !idem.fingerprints(rec.Fingerprint) {
		if legacy {
			return Result{}, false, nil
		}
		return Result{}, true, ErrIdempotencyKeyReused
	}
	o, err := loadAt(ctx, s.reads, rec.OrderID, AtVersion(rec.Version))
	if err != nil {
		return Result{}, true, fmt.Errorf("replay idempotency key: %w", err)
	}
	if legacy && !p.sees(&o) {
		return Result{}, false, nil
	}
	return Result{Order: o, Position: rec.Position, Replayed: true}, true, nil
}

// replayLoser answers a request whose append failed with err, when that
// may be because another request with the same key got there first: the
// loser answers as the winner did. handled is false when err is not such a
// conflict or the key turned out free: the caller carries on with err.
func (s *Service) replayLoser(ctx context.Context, p Principal, idem Idempotency, err error) (_ Result, handled bool, _ error) {
	claimed := errors.Is(err, ErrKeyClaimed)
	if idem.Key == "" || !claimed && !errors.Is(err, ErrAppendConflict) {
		return Result{}, false, nil
	}
	res, found, rerr := s.replay(ctx, p, idem)
	if found || rerr != nil {
		return res, true, rerr
	}
	if claimed {
		// Claimed, yet not found: its claim expired and was purged in
		// between. Rare enough that the client may simply retry.
		return Result{}, true, ErrIdempotencyKeyInProgress
	}
	return Result{}, false, nil
}

// Replay answers a request refused as invalid by a newer, stricter build
// with the outcome its key already recorded, when that outcome is this
// very request's (same key, same fingerprint): the client retrying a
// request an older build accepted must learn that it was done, not that it
// is invalid. found is false when the key is free or names another request;
// the refusal then stands. Keys are p's own, as for every command.
func (s *Service) Replay(ctx context.Context, p Principal, idem Idempotency) (_ Result, found bool, _ error) {
	res, found, err := s.replay(ctx, p, idem)
	if errors.Is(err, ErrIdempotencyKeyReused) {
		return Result{}, false, nil
	}
	return res, found, err
}
