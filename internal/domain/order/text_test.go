package order_test

import (
	"testing"

	"github.com/orderapi/orderapi/internal/domain/order"
)

// TestRequiredTextMustShowSomething: a required text made only of white
// space and invisible characters is blank; invisible characters within
// visible text are kept.
func TestRequiredTextMustShowSomething(t *testing.T) {
	tests := []struct {
		name  string
		text  string
		blank bool
	}{
		{"empty", "", true},
		{"spaces", "  ", true},
		{"ideographic space", "\u3000", true},
		{"no-break space", "\u00a0", true},
		{"zero-width space", "\u200b", true},
		{"byte order mark", "\ufeff", true},
		{"word joiner", "\u2060", true},
		{"zero-width joiner and non-joiner", "\u200d\u200c", true},
		{"soft hyphen", "\u00ad", true},
		{"left-to-right and right-to-left marks", "\u200e\u200f", true},
		{"bidi embeddings and overrides", "\u202a\u202b\u202c\u202d\u202e", true},
		{"bidi isolates", "\u2066\u2067\u2068\u2069", true},
		{"Arabic letter mark", "\u061c", true},
		{"variation selectors", "\ufe0f\U000e0100", true},
		{"combining grapheme joiner", "\u034f", true},
		{"Hangul fillers", "\u115f\u1160\u3164\uffa0", true},
		{"Mongolian free variation selector", "\u180b", true},
		{"tag characters", "\U000e0001\U000e0041", true},
		{"blank Braille pattern", "\u2800", true},
		{"a mix of them", " \u200b\ufeff \u2060\u202e ", true},
		{"a letter", "a", false},
		{"a letter among invisible ones", "\u200bA\u200b", false},
		{"an emoji sequence with a zero-width joiner", "\U0001f469\u200d\U0001f4bb", false},
		{"Persian with a zero-width non-joiner", "\u0645\u06cc\u200c\u062e\u0648\u0627\u0647\u0645", false},
		{"Hebrew in an isolate", "\u2067\u05e9\u05dc\u05d5\u05dd\u2069", false},
		{"an emoji with a variation selector", "\u2764\ufe0f", false},
		{"the Arabic number sign, a visible format character", "\u0600", false},
		{"a combining accent", "\u0301", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// Given a draft with an item and a placed order
			draft, placedOrder := given(created, addedB), given(created, addedA, placed)

			// When the text is each required free-text field in turn
			it := itemA()
			it.ProductName = tt.text
			addr := address
			addr.Name, addr.Line1, addr.City, addr.PostalCode = tt.text, tt.text, tt.text, tt.text
			_, addErr := draft.AddItem(it)
			_, placeErr := draft.Place(addr)
			_, shipErr := placedOrder.Ship(tt.text, tt.text)
			_, cancelErr := placedOrder.Cancel(tt.text, tt.text)

			// Then every field refuses it when it shows nothing, and none
			// does when it shows something
			if tt.blank {
				assertRequired(t, addErr, "product_name")
				assertRequired(t, placeErr, "shipping_address.name", "shipping_address.line1", "shipping_address.city", "shipping_address.postal_code")
				assertRequired(t, shipErr, "tracking_number", "carrier")
				assertRequired(t, cancelErr, "reason", "cancelled_by")
				return
			}
			for _, err := range []error{addErr, placeErr, shipErr, cancelErr} {
				if err != nil {
					t.Errorf("visible text %q refused: %v", tt.text, err)
				}
			}
		})
	}
}

// assertRequired checks that err lists exactly these fields, each as
// required.
func assertRequired(t *testing.T, err error, fields ...string) {
	t.Helper()
	assertFields(t, err, fields...)
	e, ok := err.(*order.Error)
	if !ok {
		return
	}
	for _, f := range e.Fields {
		if f.Code != order.FieldRequired {
			t.Errorf("%s: code %q, want %q", f.Field, f.Code, order.FieldRequired)
		}
	}
}
