// Package jwtauthtest makes signing keys, key sets, tokens and Verifiers
// for the tests of code that authenticates bearer tokens with jwtauth.
package jwtauthtest

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"testing"
	"time"

	"github.com/MicahParks/jwkset"
	"github.com/golang-jwt/jwt/v5"
	"github.com/google/uuid"
	"github.com/orderapi/orderapi/internal/adapters/jwtauth"
)

// Issuer and Audience are what the Verifiers made here expect, and the
// claims made here say.
const (
	Issuer   = "https://idp.orderapi.test"
	Audience = "orderapi-test"
)

// Key is a signing key and how its JWK is published.
type Key struct {
	// KID names the key, in its JWK and in the tokens it signs.
	KID string
	// Alg is the algorithm it signs with: RS256, ES256 or EdDSA.
	Alg string
	// PublishedAlg is the alg its JWK declares: Alg at first; "" to
	// publish it without one.
	PublishedAlg string
	private      crypto.Signer
}

// NewKey makes a key for alg (RS256, ES256 or EdDSA) with a fresh kid.
func NewKey(t testing.TB, alg string) *Key {
	t.Helper()
	var (
		k   crypto.Signer
		err error
	)
	switch alg {
	case "RS256":
		k, err = rsa.GenerateKey(rand.Reader, 2048)
	case "ES256":
		k, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	case "EdDSA":
		_, k, err = ed25519.GenerateKey(rand.Reader)
	default:
		t.Fatalf("jwtauthtest: no keys for %s", alg)
	}
	if err != nil {
		t.Fatal(err)
	}
	return &Key{KID: alg + "-" + uuid.NewString()[:8], Alg: alg, PublishedAlg: alg, private: k}
}

// Public is the key's public half.
func (k *Key) Public() crypto.PublicKey { return k.private.Public() }

// JWK is the key's public JWK, as published.
func (k *Key) JWK(t testing.TB) jwkset.JWKMarshal {
	t.Helper()
	jwk, err := jwkset.NewJWKFromKey(k.Public(), jwkset.JWKOptions{Metadata: jwkset.JWKMetadataOptions{
		KID: k.KID, ALG: jwkset.ALG(k.PublishedAlg), USE: jwkset.UseSig,
	}})
	if err != nil {
		t.Fatal(err)
	}
	return jwk.Marshal()
}

// JWKS is the key set publishing keys.
func JWKS(t testing.TB, keys ...*Key) []byte {
	t.Helper()
	set := jwkset.JWKSMarshal{Keys: []jwkset.JWKMarshal{}}
	for _, k := range keys {
		set.Keys = append(set.Keys, k.JWK(t))
	}
	b, err := json.Marshal(set)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// Sign signs claims with the key, its kid in the header.
func (k *Key) Sign(t testing.TB, claims jwt.MapClaims) string {
	t.Helper()
	return k.SignHeader(t, nil, claims)
}

// SignHeader signs claims with the key, the header its kid and alg
// changed by header: a nil value removes a field.
func (k *Key) SignHeader(t testing.TB, header map[string]any, claims jwt.MapClaims) string {
	t.Helper()
	tok := jwt.NewWithClaims(jwt.GetSigningMethod(k.Alg), claims)
	tok.Header["kid"] = k.KID
	for name, v := range header {
		if v == nil {
			delete(tok.Header, name)
		} else {
			tok.Header[name] = v
		}
	}
	s, err := tok.SignedString(k.private)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// SignRaw signs a header and claims given as JSON text, byte for byte:
// for tokens that a map cannot express, such as one naming a member
// twice.
func (k *Key) SignRaw(t testing.TB, header, claims string) string {
	t.Helper()
	signing := base64.RawURLEncoding.EncodeToString([]byte(header)) + "." + base64.RawURLEncoding.EncodeToString([]byte(claims))
	sig, err := jwt.GetSigningMethod(k.Alg).Sign(signing, k.private)
	if err != nil {
		t.Fatal(err)
	}
	return signing + "." + base64.RawURLEncoding.EncodeToString(sig)
}

// Claims are valid claims for the Verifiers made here: sub, the roles,
// issued now and expiring in an hour.
func Claims(sub string, roles ...string) jwt.MapClaims {
	now := time.Now()
	if roles == nil {
		roles = []string{}
	}
	return jwt.MapClaims{
		"iss":   Issuer,
		"aud":   Audience,
		"sub":   sub,
		"roles": roles,
		"iat":   now.Unix(),
		"exp":   now.Add(time.Hour).Unix(),
	}
}

// CustomerClaims are a customer's: its id is the subject.
func CustomerClaims(id uuid.UUID) jwt.MapClaims { return Claims(id.String(), "customer") }

// StaffClaims are a member of staff's.
func StaffClaims() jwt.MapClaims { return Claims("staff-"+uuid.NewString()[:8], "staff") }

// ServiceClaims are a machine client's, as a client-credentials grant
// issues them: the client is the subject and names itself.
func ServiceClaims(clientID string) jwt.MapClaims {
	c := Claims(clientID, "service")
	c["client_id"] = clientID
	return c
}

// NewVerifier returns a Verifier of cfg whose Issuer and Audience, if
// unset, are this package's, and runs it until the test ends.
func NewVerifier(t testing.TB, cfg jwtauth.Config) *jwtauth.Verifier {
	t.Helper()
	if cfg.Issuer == "" {
		cfg.Issuer = Issuer
	}
	if cfg.Audience == "" {
		cfg.Audience = Audience
	}
	v, err := jwtauth.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = v.Run(ctx)
	}()
	t.Cleanup(func() {
		cancel()
		<-done
	})
	return v
}

// Set is a signing key and a Verifier that trusts it: what the tests of
// an authenticated API need.
type Set struct {
	Key      *Key
	Verifier *jwtauth.Verifier
}

// New returns a Set of a fresh EdDSA key.
func New(t testing.TB) *Set {
	t.Helper()
	k := NewKey(t, "EdDSA")
	return &Set{Key: k, Verifier: NewVerifier(t, jwtauth.Config{JWKS: JWKS(t, k)})}
}

// Token signs claims.
func (s *Set) Token(t testing.TB, claims jwt.MapClaims) string {
	t.Helper()
	return s.Key.Sign(t, claims)
}

// Customer is a token of the customer id.
func (s *Set) Customer(t testing.TB, id uuid.UUID) string {
	t.Helper()
	return s.Token(t, CustomerClaims(id))
}

// Staff is a token of a member of staff.
func (s *Set) Staff(t testing.TB) string {
	t.Helper()
	return s.Token(t, StaffClaims())
}

// Service is a token of the machine client clientID.
func (s *Set) Service(t testing.TB, clientID string) string {
	t.Helper()
	return s.Token(t, ServiceClaims(clientID))
}
