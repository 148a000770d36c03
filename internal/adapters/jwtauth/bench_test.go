package jwtauth_test

import (
	"context"
	"testing"

	"github.com/orderapi/orderapi/internal/adapters/jwtauth"
	"github.com/orderapi/orderapi/internal/adapters/jwtauth/jwtauthtest"
)

// BenchmarkAuthenticate compares a token seen before (a hash and a map
// lookup) with one verified each time, per algorithm.
func BenchmarkAuthenticate(b *testing.B) {
	for _, alg := range []string{"EdDSA", "ES256", "RS256"} {
		key := jwtauthtest.NewKey(b, alg)
		token := key.Sign(b, jwtauthtest.StaffClaims())
		for _, c := range []struct {
			name string
			size int
		}{{"cached", 0}, {"uncached", -1}} {
			b.Run(alg+"/"+c.name, func(b *testing.B) {
				v := jwtauthtest.NewVerifier(b, jwtauth.Config{JWKS: jwtauthtest.JWKS(b, key), CacheSize: c.size})
				ctx := context.Background()
				b.ReportAllocs()
				for b.Loop() {
					if _, err := v.Authenticate(ctx, token); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}
