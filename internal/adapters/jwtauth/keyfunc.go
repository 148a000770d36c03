package jwtauth

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/MicahParks/jwkset"
	"github.com/golang-jwt/jwt/v5"
)

// refusal is why a token is refused, found while choosing its key.
type refusal string

func (r refusal) Error() string { return string(r) }

// refusedHeaders bring keys, certificates or where to fetch them (jku,
// x5u, jwk, x5c), or demand extensions understood (crit). Only the
// configured key set is trusted, and no extension is implemented.
var refusedHeaders = []string{"jku", "x5u", "jwk", "x5c", "crit"}

// keyfunc resolves a token's key with keyfunc's, after the checks of the
// header it does not make, and refuses a key whose type does not fit the
// token's algorithm.
func (v *Verifier) keyfunc(ctx context.Context) jwt.Keyfunc {
	resolve := v.kf.KeyfuncCtx(ctx)
	return func(t *jwt.Token) (any, error) {
		for _, h := range refusedHeaders {
			if _, ok := t.Header[h]; ok {
				return nil, refusal(fmt.Sprintf("header %q not accepted", h))
			}
		}
		if kid, ok := t.Header[jwkset.HeaderKID]; !ok {
			// Without a kid keyfunc offers every key: accepted only
			// when there is one.
			all, err := v.keys.KeyReadAll(ctx)
			if err != nil || len(all) != 1 {
				return nil, refusal("no key id (kid), and the key set holds several keys")
			}
		} else if _, ok := kid.(string); !ok {
			return nil, refusal("malformed")
		}
		key, err := resolve(t)
		if errors.Is(err, jwkset.ErrKeyNotFound) {
			return nil, refusal("unknown key id")
		}
		if err != nil {
			// The key declares another alg (keys of another use
			// are never loaded).
			return nil, refusal("algorithm not allowed for its key")
		}
		if set, ok := key.(jwt.VerificationKeySet); ok {
			if len(set.Keys) != 1 {
				return nil, refusal("algorithm not allowed for its key")
			}
			key = set.Keys[0]
		}
		if fits(t.Method.Alg(), key) != "" {
			return nil, refusal("algorithm not allowed for its key")
		}
		return key, nil
	}
}

// reason says, for app.InvalidToken, why jwt refused a token; tok is
// what it parsed, possibly nil.
func reason(tok *jwt.Token, err error) string {
	var r refusal
	if errors.As(err, &r) {
		return string(r)
	}
	if errors.Is(err, jwt.ErrTokenMalformed) || tok == nil {
		return "malformed"
	}
	// jwt refuses an algorithm not allowed as an invalid signature.
	if alg, ok := tok.Header["alg"].(string); !ok {
		return "malformed"
	} else if !slices.Contains(algorithms, alg) {
		return "algorithm not allowed"
	}
	claims, _ := tok.Claims.(jwt.MapClaims)
	switch {
	case errors.Is(err, jwt.ErrTokenSignatureInvalid):
		return "signature does not verify"
	case errors.Is(err, jwt.ErrTokenInvalidIssuer):
		return "wrong issuer"
	case errors.Is(err, jwt.ErrTokenInvalidAudience):
		return "wrong audience"
	case errors.Is(err, jwt.ErrTokenRequiredClaimMissing):
		for _, c := range []struct{ name, why string }{
			{"iss", "no issuer (iss)"}, {"aud", "no audience (aud)"}, {"exp", "no expiry (exp)"},
		} {
			if v, ok := claims[c.name]; !ok || v == "" {
				return c.why
			}
		}
		return "a required claim is missing"
	case errors.Is(err, jwt.ErrTokenExpired):
		return "expired"
	case errors.Is(err, jwt.ErrTokenNotValidYet):
		return "not yet valid"
	case errors.Is(err, jwt.ErrTokenUsedBeforeIssued):
		return "issued in the future"
	case errors.Is(err, jwt.ErrInvalidType):
		return "malformed claims"
	}
	return "cannot be verified"
}
