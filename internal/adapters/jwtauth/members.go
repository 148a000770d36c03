package jwtauth

import (
	"encoding/base64"
	"strings"

	"github.com/go-json-experiment/json/jsontext"
)

// repeatedNames says why a token is refused for the JSON of its header or
// claims, or "" when that JSON is sound or the token is not three parts of
// base64url (the parser then refuses it as malformed).
//
// The parser's encoding/json keeps the last of two members of one name, as
// RFC 7515 §4 and RFC 7519 §4 allow; another parser may keep the first, and
// read another alg, subject or roles than orderapi does
// ({"alg":"none","alg":"EdDSA"}). Those RFCs allow refusing such a token
// instead, and so does orderapi. Text that is not valid UTF-8 is refused
// for the same reason: parsers replace it differently. The check runs
// only for a token not already verified, like the signature's.
func repeatedNames(token string) string {
	header, rest, ok := strings.Cut(token, ".")
	if !ok {
		return ""
	}
	claims, _, ok := strings.Cut(rest, ".")
	if !ok {
		return ""
	}
	for _, part := range []struct{ encoded, name string }{{header, "header"}, {claims, "claims"}} {
		// The parser decodes as strictly (jwt.WithStrictDecoding).
		b, err := base64.RawURLEncoding.Strict().DecodeString(part.encoded)
		if err != nil {
			return ""
		}
		// By default jsontext validates I-JSON (RFC 7493): UTF-8 only,
		// each name once in an object.
		v := jsontext.Value(b)
		switch {
		case v.IsValid():
		case v.IsValid(jsontext.AllowDuplicateNames(true)):
			return "a member name appears twice in its " + part.name
		default:
			return "malformed"
		}
	}
	return ""
}
