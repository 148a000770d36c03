package jwtauth

import (
	"bytes"
	"context"
	"errors"
	"sync"
	"sync/atomic"

	"github.com/MicahParks/jwkset"
	"github.com/rs/zerolog"
	"golang.org/x/time/rate"
)

// keyStore is the key set keyfunc reads: jwkset's memory storage, loaded
// from the source, and loaded again when asked for a kid it lacks, at the
// limiter's rate.
type keyStore struct {
	*jwkset.MemoryJWKSet
	src     source
	limit   *rate.Limiter // nil: never load on a miss
	log     zerolog.Logger
	changed func(gen uint64) // called after the set changed, with its new generation

	// mu makes loads one at a time, so that an older answer never
	// replaces a newer one.
	mu   sync.Mutex
	last []byte // the source's JSON last loaded
	gen  atomic.Uint64
	have atomic.Bool
}

func newKeyStore(src source, limit *rate.Limiter, log zerolog.Logger, changed func(uint64)) *keyStore {
	return &keyStore{MemoryJWKSet: jwkset.NewMemoryStorage(), src: src, limit: limit, log: log, changed: changed}
}

// loaded reports whether a set has been loaded.
func (s *keyStore) loaded() bool { return s.have.Load() }

// generation changes each time the set does.
func (s *keyStore) generation() uint64 { return s.gen.Load() }

// load reads the source and, when the set differs from the one held,
// replaces it. On failure the set held stays.
func (s *keyStore) load(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	raw, err := s.src.read(ctx)
	if err != nil {
		return err
	}
	if s.have.Load() && bytes.Equal(raw, s.last) {
		return nil
	}
	keys, skips, err := parseSet(raw)
	// Once per set read: a set loaded again unchanged is not parsed.
	// An operator whose provider signs with a key skipped here learns
	// why its tokens are refused.
	for _, k := range skips {
		s.log.Warn().Str("kid", k.kid).Str("why", k.why).Msg("a key of the JWKS is skipped: it cannot verify bearer tokens")
	}
	if err != nil {
		return err
	}
	if err := s.KeyReplaceAll(ctx, keys); err != nil {
		return err
	}
	// The generation moves after the keys did: a token verified with
	// the old keys is never remembered under the new generation.
	s.changed(s.gen.Add(1))
	s.last = raw
	s.have.Store(true)
	kids := make([]string, len(keys))
	for i, k := range keys {
		kids[i] = k.Marshal().KID
	}
	s.log.Info().Strs("kids", kids).Msg("loaded the keys that verify bearer tokens")
	return nil
}

// KeyRead is jwkset's, but a kid the set lacks loads the set again if
// the limiter allows it now. It never waits for the limiter: a token
// whose kid stays unknown is refused at once.
func (s *keyStore) KeyRead(ctx context.Context, kid string) (jwkset.JWK, error) {
	jwk, err := s.MemoryJWKSet.KeyRead(ctx, kid)
	if !errors.Is(err, jwkset.ErrKeyNotFound) || s.limit == nil || !s.limit.Allow() {
		return jwk, err
	}
	if lerr := s.load(ctx); lerr != nil {
		s.log.Warn().Err(lerr).Msg("loading the keys again for an unknown key id failed")
		return jwk, err
	}
	return s.MemoryJWKSet.KeyRead(ctx, kid)
}
