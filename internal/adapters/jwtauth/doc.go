// Package jwtauth authenticates API requests by their OAuth 2.0 bearer
// tokens (RFC 6750): JWTs signed by an identity provider, checked as a
// resource server checks them, against the provider's published keys (a
// JWKS fetched from a URL, or read from a file).
//
// A token is accepted only when every one of these holds:
//   - it is a JWS of three parts with a JSON header and claims, each
//     I-JSON (RFC 7493): UTF-8, and no member name twice in an object,
//     which parsers would read differently;
//   - its algorithm is RS256, ES256 or EdDSA, and the key's type fits it
//     (an RSA key for RS256, a P-256 key for ES256, an Ed25519 key for
//     EdDSA); a key that declares an "alg" is used for that one only;
//     "none", HS256 and every other algorithm are refused, so a token
//     signed with HMAC over a public key (algorithm confusion) fails;
//   - its header names a key id (kid) in the set. A token without a kid
//     is accepted only while the set holds a single key: with several,
//     trying each would let a token pick the key, and costs a signature
//     check per key;
//   - its header carries none of jku, x5u, jwk, x5c (keys or certificates
//     the token would bring along: only the configured set is trusted) and
//     no crit (extensions this verifier does not implement);
//   - the signature verifies;
//   - iss is the configured issuer, aud holds the configured audience, exp
//     is present and not past, nbf (when present) is not ahead, iat (when
//     present) is not ahead: each time with 60 seconds of leeway for
//     clocks that differ;
//   - it names its subject (sub), as RFC 9068 §2.2 requires: the client
//     (azp, client_id) never stands in for it.
//
// A refused token's error is app.InvalidToken with a short reason
// ("expired", "wrong audience"...) that never quotes the token.
//
// The principal's roles come from one claim (an array of role names or a
// space-separated string); names orderapi does not know are ignored, and a
// token that grants no known role is accepted with no roles: it
// authenticates, and authorization then refuses what it asks (403). A
// token that grants the customer role must carry the customer's UUID, in
// its canonical lower-case form, in the customer claim (sub by default).
// The principal's Expires is the token's exp.
//
// Keys are loaded in the background: until the first set arrives the
// Verifier is not Ready and answers app.ErrAuthUnavailable. A URL is
// fetched again periodically and, for a kid it does not know, at most
// once per UnknownKeyRefresh, so that a key the provider has just started
// using is found without a restart while a flood of invented kids costs
// the provider one request per interval. A failed fetch keeps the keys
// already loaded.
//
// Verified tokens are remembered, by their SHA-256, until they expire (a
// bounded number of them), so that a client sending the same token on
// every request pays a hash and a map lookup instead of a signature check.
// A change in the key set forgets them all: a key withdrawn by the provider
// stops being trusted at once. A key of the set that cannot verify tokens
// (an encryption key, an HMAC secret, a small RSA key, a curve not
// accepted) is skipped, with a warning naming its kid and why, once per
// set loaded.
//
// The development key (see OpenDevKey) is refused from a folder others may
// write to, or a file others may read, as ssh refuses a private key.
//
// The libraries: github.com/golang-jwt/jwt/v5 parses and verifies the JWS
// and the registered claims, each check enabled explicitly;
// github.com/MicahParks/keyfunc/v3 resolves the token's kid and alg to a
// key of a github.com/MicahParks/jwkset set, which decodes and validates
// the JWKs. Nothing here implements cryptography.
package jwtauth
