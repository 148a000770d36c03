package jwtauth

import (
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strings"

	"github.com/MicahParks/jwkset"
	"github.com/golang-jwt/jwt/v5"
)

// maxJWKSSize bounds a fetched or read key set: a provider publishes a
// few keys, a few KiB.
const maxJWKSSize = 1 << 20

// minRSABits is the smallest RSA key trusted (NIST SP 800-131A).
const minRSABits = 2048

// source is where the key set comes from.
type source struct {
	url, file string
	given     []byte
	client    *http.Client
}

func newSource(cfg Config) (source, error) {
	if cfg.JWKSURL != "" {
		u, err := url.Parse(cfg.JWKSURL)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			return source{}, fmt.Errorf("jwtauth: JWKS URL %q: want an http:// or https:// URL", cfg.JWKSURL)
		}
	}
	return source{url: cfg.JWKSURL, file: cfg.JWKSFile, given: cfg.JWKS, client: cfg.HTTPClient}, nil
}

// static reports whether the set is given, never to be loaded again.
func (s source) static() bool { return s.url == "" && s.file == "" }

// read returns the set's JSON.
func (s source) read(ctx context.Context) ([]byte, error) {
	switch {
	case s.url != "":
		return s.fetch(ctx)
	case s.file != "":
		f, err := os.Open(s.file)
		if err != nil {
			return nil, err
		}
		defer f.Close()
		return readAtMost(f)
	}
	return s.given, nil
}

func (s source) fetch(ctx context.Context) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.url, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", "application/jwk-set+json, application/json")
	resp, err := s.client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET %s: %s", s.url, resp.Status)
	}
	return readAtMost(resp.Body)
}

func readAtMost(r io.Reader) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(r, maxJWKSSize+1))
	if err != nil {
		return nil, err
	}
	if len(b) > maxJWKSSize {
		return nil, fmt.Errorf("key set larger than %d bytes", maxJWKSSize)
	}
	return b, nil
}

// skipped is a key of the set that is not used, and why.
type skipped struct{ kid, why string }

// parseSet decodes a JWKS and keeps the keys that may verify a token's
// signature: public keys of the accepted algorithms' types, meant for
// signatures. A key of another kind (an encryption key, an HMAC secret,
// a curve orderapi does not accept) is skipped, not an error: providers
// publish such keys next to their signing keys.
func parseSet(raw []byte) ([]jwkset.JWK, []skipped, error) {
	var set jwkset.JWKSMarshal
	if err := json.Unmarshal(raw, &set); err != nil {
		return nil, nil, fmt.Errorf("key set is not a JWKS: %w", err)
	}
	var keys []jwkset.JWK
	var skips []skipped
	for _, m := range set.Keys {
		why := usable(m)
		if why == "" {
			// Private parts, should a set carry them, are dropped:
			// verifying needs the public key only.
			jwk, err := jwkset.NewJWKFromMarshal(m, jwkset.JWKMarshalOptions{}, jwkset.JWKValidateOptions{})
			switch {
			case err != nil:
				why = err.Error()
			case m.ALG != "":
				why = fits(string(m.ALG), jwk.Key())
			default:
				// A key without an alg may serve any algorithm its
				// type fits.
				why = fitsAny(jwk.Key())
			}
			if why == "" {
				keys = append(keys, jwk)
				continue
			}
		}
		skips = append(skips, skipped{kid: m.KID, why: why})
	}
	if len(keys) == 0 {
		return nil, skips, errors.New("key set holds no key that can verify a token")
	}
	return keys, skips, nil
}

// usable says why a JWK is not for verifying tokens, or "".
func usable(m jwkset.JWKMarshal) string {
	switch {
	case m.USE != "" && m.USE != jwkset.UseSig:
		return fmt.Sprintf("use %q: not a signature key", m.USE)
	case m.KTY == jwkset.KtyOct:
		return "an HMAC secret (kty oct): only public keys verify tokens"
	case m.ALG != "" && !accepted(string(m.ALG)):
		return fmt.Sprintf("alg %q is not accepted (only %s)", m.ALG, strings.Join(algorithms, ", "))
	case m.KTY == jwkset.KtyEC && m.CRV != jwkset.CrvP256:
		return fmt.Sprintf("curve %q is not accepted (only P-256, for ES256)", m.CRV)
	case m.KTY == jwkset.KtyOKP && m.CRV != jwkset.CrvEd25519:
		return fmt.Sprintf("curve %q is not accepted (only Ed25519, for EdDSA)", m.CRV)
	case m.KTY != jwkset.KtyRSA && m.KTY != jwkset.KtyEC && m.KTY != jwkset.KtyOKP:
		return fmt.Sprintf("kty %q is not accepted", m.KTY)
	}
	return ""
}

func accepted(alg string) bool { return slices.Contains(algorithms, alg) }

// fits says why key cannot verify alg, or "".
func fits(alg string, key any) string {
	serves, why := algorithmOf(key)
	if why != "" {
		return why
	}
	if alg != serves {
		return fmt.Sprintf("the key does not fit %s", alg)
	}
	return ""
}

// fitsAny says why key fits none of the accepted algorithms, or "".
func fitsAny(key any) string {
	_, why := algorithmOf(key)
	return why
}

// algorithmOf is the one accepted algorithm key may verify, or why it may
// verify none.
func algorithmOf(key any) (alg, why string) {
	switch k := key.(type) {
	case *rsa.PublicKey:
		if k.N.BitLen() < minRSABits {
			return "", fmt.Sprintf("RSA key of %d bits, fewer than %d", k.N.BitLen(), minRSABits)
		}
		return jwt.SigningMethodRS256.Alg(), ""
	case *ecdsa.PublicKey:
		if k.Curve != elliptic.P256() {
			return "", fmt.Sprintf("curve %q is not accepted (only P-256, for ES256)", k.Curve.Params().Name)
		}
		return jwt.SigningMethodES256.Alg(), ""
	case ed25519.PublicKey:
		return jwt.SigningMethodEdDSA.Alg(), ""
	}
	return "", fmt.Sprintf("a key of type %T verifies none of %s", key, strings.Join(algorithms, ", "))
}
