package order

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// Text limits, in characters (not bytes), of each free-text field. They
// bound what one order can hold; api/openapi.yaml states the same values
// as maxLength, and a test of the HTTP adapter keeps the two in step.
const (
	MaxNameLen       = 200
	MaxAddressLen    = 200
	MaxPostalCodeLen = 20
	MaxTrackingLen   = 100
	MaxCarrierLen    = 100
	MaxReasonLen     = 500
	MaxActorLen      = 100
	MaxSignatureLen  = 200
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
