// Package jwtauth authenticates API requests by their OAuth 2.0 bearer
// tokens (RFC 6750): JWTs signed by an identity provider and checked as a
// resource server checks them, against the provider's key set (a JWKS
// from a URL or a file), or signed by the development key. Every check a
// token must pass, how keys are loaded and refreshed, and how verified
// tokens are remembered: see docs/design.md, "Authentication".
package jwtauth
