package order

import (
	"errors"
	"regexp"
	"strings"
	"testing"

	"github.com/shopspring/decimal"
)

// FuzzParseAmount: ParseAmount accepts exactly the texts of the documented
// form (1 to 13 digits, then optionally a point and 1 to 4 digits; no
// sign, exponent or space), as checked here by hand rather than by the
// regular expression it uses; what it accepts is in range and written
// back as the same text, leading zeros aside; what it refuses is an
// invalid-field error naming the field.
// amountPattern is the form the API documents, as a regular expression.
var amountPattern = regexp.MustCompile(AmountPattern)

func FuzzParseAmount(f *testing.F) {
	for _, s := range []string{"19.99", "0", "0.0001", "9999999999999.9999", "10000000000000", "1.", ".5", "-0", "+1", "1e3", "1E1000000000", " 1", "1 ", "٣", "1.00000", "007.50", "0x10", "NaN", "1_000"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := ParseAmount("unit_price", s)
		if want := documentedAmount(s); (err == nil) != want {
			t.Fatalf("ParseAmount(%q) = %v, %v; documented form: %v", s, d, err, want)
		}
		if want := amountPattern.MatchString(s); (err == nil) != want {
			t.Fatalf("ParseAmount(%q) = %v, %v; AmountPattern matches: %v", s, d, err, want)
		}
		if err != nil {
			var e *Error
			if !errors.As(err, &e) || e.Kind != KindInvalid || len(e.Fields) != 1 || e.Fields[0].Field != "unit_price" {
				t.Fatalf("ParseAmount(%q) error %#v does not name the field", s, err)
			}
			return
		}
		if !validAmount(d) {
			t.Fatalf("ParseAmount(%q) = %s, out of range", s, d)
		}
		places := 0
		if _, frac, ok := strings.Cut(s, "."); ok {
			places = len(frac)
		}
		intPart, _, _ := strings.Cut(s, ".")
		canonical := strings.TrimLeft(intPart, "0")
		if canonical == "" {
			canonical = "0"
		}
		if places > 0 {
			canonical += s[len(intPart):]
		}
		if got := d.String(); got != canonical || d.Scale() != places {
			t.Fatalf("ParseAmount(%q) writes back as %q with %d places, want %q", s, got, d.Scale(), canonical)
		}
		if again, err := decimal.NewFromString(d.String()); err != nil || !again.Equal(d.Decimal()) || d.Decimal().StringFixed(int32(places)) != canonical {
			t.Fatalf("ParseAmount(%q) = %s does not round-trip: %v, %v", s, d, again, err)
		}
	})
}

// documentedAmount is the amount form of the API, spelt out byte by byte.
func documentedAmount(s string) bool {
	intPart, frac, hasPoint := strings.Cut(s, ".")
	digits := func(p string, lo, hi int) bool {
		if len(p) < lo || len(p) > hi {
			return false
		}
		for i := 0; i < len(p); i++ {
			if p[i] < '0' || p[i] > '9' {
				return false
			}
		}
		return true
	}
	return digits(intPart, 1, 13) && (!hasPoint || digits(frac, 1, 4))
}
