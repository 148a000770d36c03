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
	case required && s == "":
		fe.add(field, FieldRequired, "is required")
	case required && Blank(s):
		fe.add(field, FieldRequired, "is required: white space and invisible characters alone are blank")
	case utf8.RuneCountInString(s) > maxLen:
		fe.add(field, FieldTooLong, "must be at most %d characters", maxLen)
	}
}

// Blank reports whether s shows nothing: it holds only white space and
// invisible characters. Invisible characters are allowed within visible
// text, where some scripts need them (a zero-width joiner in an emoji
// sequence, a non-joiner in Persian, bidi marks in mixed-direction text),
// but they alone are no name, reason or carrier. A required text that is
// blank is refused; so is a name a token gives that history would record.
func Blank(s string) bool {
	return strings.IndexFunc(s, func(r rune) bool { return !invisible(r) }) < 0
}

// invisible reports whether r draws nothing: white space, a character
// Unicode calls default-ignorable, or the blank Braille pattern, the one
// graphic character that draws no mark.
func invisible(r rune) bool {
	return unicode.Is(unicode.White_Space, r) || defaultIgnorable(r) || r == '\u2800'
}

// defaultIgnorable is Unicode's Default_Ignorable_Code_Point, which the
// unicode package does not export, built as DerivedCoreProperties.txt
// defines it: zero-width spaces and joiners, bidi controls, the byte order
// mark, variation selectors, Hangul fillers, tags and the like, but not the
// format characters that do show (the prepended concatenation marks such
// as the Arabic number sign, interlinear annotation and Egyptian
// hieroglyph controls).
func defaultIgnorable(r rune) bool {
	switch {
	case unicode.Is(unicode.Other_Default_Ignorable_Code_Point, r), unicode.Is(unicode.Variation_Selector, r):
		return true
	case !unicode.Is(unicode.Cf, r), unicode.Is(unicode.Prepended_Concatenation_Mark, r):
		return false
	}
	return !(0xFFF9 <= r && r <= 0xFFFB) && !(0x13430 <= r && r <= 0x1343F)
}
