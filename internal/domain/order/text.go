package order

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// Text limits, in characters. They bound what one order can hold.
const (
	maxNameLen      = 200
	maxAddressLen   = 200
	maxPostalLen    = 20
	maxTrackingLen  = 100
	maxCarrierLen   = 100
	maxReasonLen    = 500
	maxActorLen     = 100
	maxSignatureLen = 200
)

// checkText validates free text: valid UTF-8, no control characters (NUL
// included), not blank when required, at most max characters. The value is
// stored exactly as given, so it must already be what the caller means.
func (fe *fieldErrors) checkText(field, s string, required bool, maxLen int) {
	switch {
	case !utf8.ValidString(s):
		fe.add(field, FieldBadText, "must be valid UTF-8")
	case strings.IndexFunc(s, unicode.IsControl) >= 0:
		fe.add(field, FieldBadText, "must not contain control characters")
	case required && strings.TrimSpace(s) == "":
		fe.add(field, FieldRequired, "is required")
	case utf8.RuneCountInString(s) > maxLen:
		fe.add(field, FieldTooLong, "must be at most %d characters", maxLen)
	}
}
