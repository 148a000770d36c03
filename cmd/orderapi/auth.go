package main

import (
	"github.com/orderapi/orderapi/internal/adapters/jwtauth"
	"github.com/rs/zerolog"
)

// newVerifier builds what verifies bearer tokens: the identity
// provider's keys, or in development mode the service's own key, made on
// first start.
func newVerifier(a authConfig, log zerolog.Logger) (*jwtauth.Verifier, error) {
	if err := a.check(); err != nil {
		return nil, err
	}
	cfg := jwtauth.Config{
		JWKSURL:       a.JWKSURL,
		JWKSFile:      a.JWKSFile,
		Issuer:        a.Issuer,
		Audience:      a.Audience,
		RolesClaim:    a.RolesClaim,
		CustomerClaim: a.CustomerClaim,
		Log:           log,
	}
	if a.Mode == authDev {
		key, created, err := jwtauth.OpenDevKey(a.DevDir)
		if err != nil {
			return nil, err
		}
		cfg.JWKS, cfg.Issuer, cfg.Audience = key.JWKS(), jwtauth.DevIssuer, jwtauth.DevAudience
		log.Warn().Str("dir", a.DevDir).Bool("key_created", created).Str("kid", key.KID()).
			Msg("development authentication (ORDERAPI_AUTH=dev): tokens signed with the key in dir are accepted, " +
				"and `orderapi token` signs them for anyone who can read it; never use it in production")
	}
	return jwtauth.New(cfg)
}
