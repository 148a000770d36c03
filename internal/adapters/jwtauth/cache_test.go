package jwtauth_test

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/google/uuid"
	"github.com/orderapi/orderapi/internal/adapters/jwtauth"
	"github.com/orderapi/orderapi/internal/adapters/jwtauth/jwtauthtest"
)

// clock is a time tests move by hand.
type clock struct{ now atomic.Int64 }

func newClock(t time.Time) *clock {
	c := &clock{}
	c.set(t)
	return c
}

func (c *clock) set(t time.Time)     { c.now.Store(t.UnixNano()) }
func (c *clock) Now() time.Time      { return time.Unix(0, c.now.Load()) }
func (c *clock) add(d time.Duration) { c.now.Add(int64(d)) }

func claimsAt(now time.Time, ttl time.Duration) jwt.MapClaims {
	c := jwtauthtest.StaffClaims()
	c["iat"] = now.Unix()
	c["exp"] = now.Add(ttl).Unix()
	return c
}

// TestCachedTokenStillExpires: a token remembered as verified is
// accepted until its exp and not beyond.
func TestCachedTokenStillExpires(t *testing.T) {
	t.Parallel()
	// Given a token valid for 10 minutes, verified once
	start := time.Unix(time.Now().Unix(), 0)
	clk := newClock(start)
	key := jwtauthtest.NewKey(t, "EdDSA")
	v := jwtauthtest.NewVerifier(t, jwtauth.Config{JWKS: jwtauthtest.JWKS(t, key), Now: clk.Now})
	token := key.Sign(t, claimsAt(start, 10*time.Minute))
	accepted(t, v, token)
	if n := jwtauth.CachedTokens(v); n != 1 {
		t.Fatalf("%d tokens cached, want 1", n)
	}

	// When it is sent again before its exp, it is accepted
	clk.set(start.Add(10*time.Minute - time.Second))
	accepted(t, v, token)

	// When the clock passes exp and the leeway, it is refused as expired,
	// cached or not
	clk.set(start.Add(10*time.Minute + 61*time.Second))
	refused(t, v, token, "expired")
}

// TestCacheIsBounded: however many tokens are verified, the cache holds
// at most CacheSize, and every token is still accepted.
func TestCacheIsBounded(t *testing.T) {
	t.Parallel()
	key := jwtauthtest.NewKey(t, "EdDSA")
	v := jwtauthtest.NewVerifier(t, jwtauth.Config{JWKS: jwtauthtest.JWKS(t, key), CacheSize: 5})
	tokens := make([]string, 50)
	for i := range tokens {
		tokens[i] = key.Sign(t, jwtauthtest.CustomerClaims(uuid.New()))
		accepted(t, v, tokens[i])
		if n := jwtauth.CachedTokens(v); n > 5 {
			t.Fatalf("after %d tokens, %d cached; want at most 5", i+1, n)
		}
	}
	for _, tok := range tokens {
		accepted(t, v, tok)
	}
	if n := jwtauth.CachedTokens(v); n != 5 {
		t.Errorf("%d cached, want 5", n)
	}
}

// TestFullCacheDropsExpiredTokensFirst: expired entries make room before
// live ones are evicted.
func TestFullCacheDropsExpiredTokensFirst(t *testing.T) {
	t.Parallel()
	start := time.Unix(time.Now().Unix(), 0)
	clk := newClock(start)
	key := jwtauthtest.NewKey(t, "EdDSA")
	v := jwtauthtest.NewVerifier(t, jwtauth.Config{JWKS: jwtauthtest.JWKS(t, key), CacheSize: 4, Now: clk.Now})
	// Given a full cache of 3 short-lived tokens and a long-lived one
	for range 3 {
		accepted(t, v, key.Sign(t, claimsAt(start, time.Minute)))
	}
	long := key.Sign(t, claimsAt(start, time.Hour))
	accepted(t, v, long)
	// When the short ones have expired and a new token comes
	clk.add(2 * time.Minute)
	accepted(t, v, key.Sign(t, claimsAt(clk.Now(), time.Hour)))
	// Then the expired ones made room: two live tokens are cached
	if n := jwtauth.CachedTokens(v); n != 2 {
		t.Errorf("%d cached, want 2 (the expired dropped, the live kept)", n)
	}
}

// TestNoCache: a negative CacheSize remembers nothing.
func TestNoCache(t *testing.T) {
	t.Parallel()
	key := jwtauthtest.NewKey(t, "EdDSA")
	v := jwtauthtest.NewVerifier(t, jwtauth.Config{JWKS: jwtauthtest.JWKS(t, key), CacheSize: -1})
	accepted(t, v, key.Sign(t, jwtauthtest.StaffClaims()))
	if n := jwtauth.CachedTokens(v); n != 0 {
		t.Errorf("%d cached", n)
	}
}

// TestConcurrentAuthentication runs many callers on shared and distinct
// tokens at once (meant for -race).
func TestConcurrentAuthentication(t *testing.T) {
	t.Parallel()
	key := jwtauthtest.NewKey(t, "EdDSA")
	v := jwtauthtest.NewVerifier(t, jwtauth.Config{JWKS: jwtauthtest.JWKS(t, key), CacheSize: 16})
	shared := key.Sign(t, jwtauthtest.StaffClaims())
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 50 {
				for _, tok := range []string{shared, key.Sign(t, jwtauthtest.StaffClaims())} {
					if _, err := v.Authenticate(context.Background(), tok); err != nil {
						t.Error(err)
						return
					}
				}
			}
		}()
	}
	wg.Wait()
}
