package jwtauth_test

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/MicahParks/jwkset"
	"github.com/google/uuid"
	"github.com/orderapi/orderapi/internal/adapters/jwtauth"
	"github.com/orderapi/orderapi/internal/adapters/jwtauth/jwtauthtest"
	"github.com/orderapi/orderapi/internal/app"
	"github.com/rs/zerolog"
)

// eventually polls cond every 10ms for up to 5s.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within 5s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func ready(v *jwtauth.Verifier) bool { return v.Ready(context.Background()) == nil }

// TestRotationThroughTheURL: the provider publishes a new key and
// withdraws the old one; the service follows without a restart.
func TestRotationThroughTheURL(t *testing.T) {
	t.Parallel()
	// Given a provider publishing one key, and a verifier fetching it
	// rarely except for unknown kids
	old := jwtauthtest.NewKey(t, "RS256")
	idp := jwtauthtest.NewServer(t, old)
	v := jwtauthtest.NewVerifier(t, jwtauth.Config{JWKSURL: idp.URL, RefreshInterval: time.Hour, UnknownKeyRefresh: 20 * time.Millisecond})
	eventually(t, "ready", func() bool { return ready(v) })
	oldToken := old.Sign(t, jwtauthtest.StaffClaims())
	accepted(t, v, oldToken)

	// When it publishes a new key in place of the old one
	rotated := jwtauthtest.NewKey(t, "ES256")
	idp.Publish(t, rotated)
	time.Sleep(30 * time.Millisecond) // the unknown-kid limiter's interval

	// Then the new key's tokens are accepted at once (their kid makes the
	// verifier fetch the set)
	accepted(t, v, rotated.Sign(t, jwtauthtest.StaffClaims()))
	// and the old key's are refused, even one verified before
	refused(t, v, oldToken, "unknown key id")
	refused(t, v, old.Sign(t, jwtauthtest.StaffClaims()), "unknown key id")
}

// TestPeriodicRefreshWithdrawsKeys: a key the provider withdraws stops
// being trusted at the next refresh, with no token asking.
func TestPeriodicRefreshWithdrawsKeys(t *testing.T) {
	t.Parallel()
	a, b := jwtauthtest.NewKey(t, "EdDSA"), jwtauthtest.NewKey(t, "EdDSA")
	idp := jwtauthtest.NewServer(t, a, b)
	v := jwtauthtest.NewVerifier(t, jwtauth.Config{JWKSURL: idp.URL, RefreshInterval: 20 * time.Millisecond, UnknownKeyRefresh: time.Hour})
	eventually(t, "ready", func() bool { return ready(v) })
	token := a.Sign(t, jwtauthtest.StaffClaims())
	accepted(t, v, token)

	idp.Publish(t, b)

	eventually(t, "the withdrawn key refused", func() bool {
		_, err := v.Authenticate(context.Background(), token)
		return errors.Is(err, app.ErrInvalidToken)
	})
	accepted(t, v, b.Sign(t, jwtauthtest.StaffClaims()))
}

// TestUnknownKidFloodIsRateLimited: tokens with invented kids make the
// verifier fetch the set at most once per UnknownKeyRefresh, and are
// refused without waiting.
func TestUnknownKidFloodIsRateLimited(t *testing.T) {
	t.Parallel()
	// Given a verifier that may fetch for an unknown kid every 100ms
	key := jwtauthtest.NewKey(t, "EdDSA")
	idp := jwtauthtest.NewServer(t, key)
	v := jwtauthtest.NewVerifier(t, jwtauth.Config{JWKSURL: idp.URL, RefreshInterval: time.Hour, UnknownKeyRefresh: 100 * time.Millisecond})
	eventually(t, "ready", func() bool { return ready(v) })
	before := idp.Requests()

	// When 8 clients send tokens with fresh kids for 500ms
	start := time.Now()
	var wg sync.WaitGroup
	var mu sync.Mutex
	var sent int
	var slowest time.Duration
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for time.Since(start) < 500*time.Millisecond {
				tok := key.SignHeader(t, map[string]any{"kid": uuid.NewString()}, jwtauthtest.StaffClaims())
				t0 := time.Now()
				_, err := v.Authenticate(context.Background(), tok)
				d := time.Since(t0)
				if !errors.Is(err, app.ErrInvalidToken) {
					t.Errorf("bogus kid: %v", err)
					return
				}
				mu.Lock()
				sent++
				slowest = max(slowest, d)
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)

	// Then the provider saw at most one fetch per 100ms (plus the first,
	// allowed at once)
	fetches := idp.Requests() - before
	if limit := int64(elapsed/(100*time.Millisecond)) + 1; fetches > limit || fetches < 1 {
		t.Errorf("%d tokens with unknown kids made %d fetches in %s; want 1 to %d", sent, fetches, elapsed, limit)
	}
	if sent < 100 {
		t.Errorf("only %d tokens sent: were they held back?", sent)
	}
	if slowest > time.Second {
		t.Errorf("a refusal took %s: tokens wait for the limiter", slowest)
	}
}

// TestOutageKeepsTheKeys: a provider that stops answering leaves the
// verifier with the keys it has.
func TestOutageKeepsTheKeys(t *testing.T) {
	t.Parallel()
	key := jwtauthtest.NewKey(t, "ES256")
	idp := jwtauthtest.NewServer(t, key)
	v := jwtauthtest.NewVerifier(t, jwtauth.Config{JWKSURL: idp.URL, CacheSize: -1,
		RefreshInterval: 10 * time.Millisecond, UnknownKeyRefresh: 10 * time.Millisecond, RetryMin: 10 * time.Millisecond, RetryMax: 10 * time.Millisecond})
	eventually(t, "ready", func() bool { return ready(v) })

	// When the provider goes down, and refreshes fail
	idp.SetDown(true)
	failed := idp.Requests()
	eventually(t, "refreshes failing", func() bool { return idp.Requests() > failed+3 })

	// Then tokens of the keys loaded are still accepted, and the verifier
	// stays ready
	accepted(t, v, key.Sign(t, jwtauthtest.StaffClaims()))
	refused(t, v, key.SignHeader(t, map[string]any{"kid": "new"}, jwtauthtest.StaffClaims()), "unknown key id")
	if err := v.Ready(context.Background()); err != nil {
		t.Errorf("Ready = %v during the outage", err)
	}
}

// TestStartWithoutKeys: a provider unreachable at start leaves the
// service up but not ready, refusing tokens as unavailable, until the keys
// arrive.
func TestStartWithoutKeys(t *testing.T) {
	t.Parallel()
	// Given a provider that is down when the verifier starts
	key := jwtauthtest.NewKey(t, "EdDSA")
	idp := jwtauthtest.NewServer(t, key)
	idp.SetDown(true)
	v := jwtauthtest.NewVerifier(t, jwtauth.Config{JWKSURL: idp.URL, RetryMin: 10 * time.Millisecond, RetryMax: 20 * time.Millisecond})
	eventually(t, "a first fetch", func() bool { return idp.Requests() > 0 })

	// Then it is not ready, and tokens are refused as unavailable
	err := v.Ready(context.Background())
	var public interface{ PublicReason() string }
	if err == nil || !errors.As(err, &public) {
		t.Fatalf("Ready = %v, want a failure with a public reason", err)
	}
	token := key.Sign(t, jwtauthtest.StaffClaims())
	if _, err := v.Authenticate(context.Background(), token); !errors.Is(err, app.ErrAuthUnavailable) {
		t.Fatalf("Authenticate = %v, want auth_unavailable", err)
	}

	// When the provider comes up
	idp.SetDown(false)

	// Then the verifier, retrying, becomes ready and accepts the token
	eventually(t, "ready", func() bool { return ready(v) })
	accepted(t, v, token)
}

// TestKeysFromAFile: the set is read from a file, and again when it
// changes.
func TestKeysFromAFile(t *testing.T) {
	t.Parallel()
	a, b := jwtauthtest.NewKey(t, "EdDSA"), jwtauthtest.NewKey(t, "RS256")
	path := filepath.Join(t.TempDir(), "jwks.json")
	if err := os.WriteFile(path, jwtauthtest.JWKS(t, a), 0o644); err != nil {
		t.Fatal(err)
	}
	v := jwtauthtest.NewVerifier(t, jwtauth.Config{JWKSFile: path, RefreshInterval: 10 * time.Millisecond, UnknownKeyRefresh: time.Hour})
	eventually(t, "ready", func() bool { return ready(v) })
	accepted(t, v, a.Sign(t, jwtauthtest.StaffClaims()))

	// When the file is replaced by another set
	next := path + ".new"
	if err := os.WriteFile(next, jwtauthtest.JWKS(t, b), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(next, path); err != nil {
		t.Fatal(err)
	}

	// Then its keys are used
	eventually(t, "the new key accepted", func() bool {
		_, err := v.Authenticate(context.Background(), b.Sign(t, jwtauthtest.StaffClaims()))
		return err == nil
	})
	refused(t, v, a.Sign(t, jwtauthtest.StaffClaims()), "unknown key id")

	// and a file gone keeps the keys read
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	time.Sleep(30 * time.Millisecond)
	accepted(t, v, b.Sign(t, jwtauthtest.StaffClaims()))
}

func TestMissingFileIsNotReady(t *testing.T) {
	t.Parallel()
	v := jwtauthtest.NewVerifier(t, jwtauth.Config{JWKSFile: filepath.Join(t.TempDir(), "none.json"), RetryMin: 10 * time.Millisecond})
	time.Sleep(30 * time.Millisecond)
	if ready(v) {
		t.Error("ready without a key set")
	}
}

// lockedBuffer is a log both the test and the verifier's loader use.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// TestSkippedKeysAreLogged: a key of the set that cannot verify tokens is
// named in a warning, with why, once per set loaded, not at every
// refresh.
func TestSkippedKeysAreLogged(t *testing.T) {
	t.Parallel()
	// Given a set with a signing key and keys that cannot sign, in a file
	// read again every 10ms
	good := jwtauthtest.NewKey(t, "EdDSA")
	jwk := func(pub crypto.PublicKey, kid string, use jwkset.USE) jwkset.JWKMarshal {
		j, err := jwkset.NewJWKFromKey(pub, jwkset.JWKOptions{Metadata: jwkset.JWKMetadataOptions{KID: kid, USE: use}})
		if err != nil {
			t.Fatal(err)
		}
		return j.Marshal()
	}
	ed, _, _ := ed25519.GenerateKey(rand.Reader)
	rsa1024, _ := rsa.GenerateKey(rand.Reader, 1024)
	p384, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	set := jwkset.JWKSMarshal{Keys: []jwkset.JWKMarshal{
		good.JWK(t),
		jwk(ed, "for-encryption", jwkset.UseEnc),
		{KTY: jwkset.KtyOct, KID: "hmac", K: "c2VjcmV0"},
		jwk(rsa1024.Public(), "rsa-1024", ""),
		jwk(p384.Public(), "p384", ""),
	}}
	raw, err := json.Marshal(set)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "jwks.json")
	if err := os.WriteFile(path, raw, 0o644); err != nil {
		t.Fatal(err)
	}
	logs := &lockedBuffer{}

	// When the verifier loads it, and reads it again many times
	v := jwtauthtest.NewVerifier(t, jwtauth.Config{JWKSFile: path, RefreshInterval: 10 * time.Millisecond,
		Log: zerolog.New(logs)})
	eventually(t, "ready", func() bool { return ready(v) })
	time.Sleep(200 * time.Millisecond)

	// Then each skipped key was named once, at warn, with why
	var lines []struct{ Level, Kid, Why string }
	for _, line := range strings.Split(strings.TrimSpace(logs.String()), "\n") {
		var l struct{ Level, Kid, Why string }
		if err := json.Unmarshal([]byte(line), &l); err != nil {
			t.Fatalf("log line %q: %v", line, err)
		}
		if l.Kid != "" {
			lines = append(lines, l)
		}
	}
	want := map[string]string{
		"for-encryption": `use "enc"`,
		"hmac":           "HMAC",
		"rsa-1024":       "RSA key of 1024 bits",
		"p384":           `curve "P-384"`,
	}
	if len(lines) != len(want) {
		t.Errorf("%d warnings about keys, want %d (one per skipped key):\n%s", len(lines), len(want), logs.String())
	}
	for _, l := range lines {
		why, ok := want[l.Kid]
		if !ok || l.Level != "warn" || !strings.Contains(l.Why, why) {
			t.Errorf("%+v, want a warning for a skipped key saying %q", l, why)
		}
		delete(want, l.Kid)
	}
	if len(want) > 0 {
		t.Errorf("no warning for %v:\n%s", want, logs.String())
	}
	// and the signing key is used
	accepted(t, v, good.Sign(t, jwtauthtest.StaffClaims()))
}
