package order

import (
	"math/rand/v2"
	"testing"

	"github.com/shopspring/decimal"
)

// formatByDefinition is Format as its doc states it: the fewest places
// that hold the amount exactly, but at least the currency's.
func formatByDefinition(c Currency, d decimal.Decimal) string {
	need := int32(0)
	for need < -d.Exponent() && !d.Truncate(need).Equal(d) {
		need++
	}
	return d.StringFixed(max(int32(c.MinorUnits()), need))
}

func TestFormatMatchesItsDefinition(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, c := range []Currency{"USD", "JPY", "BHD"} {
		for range 20000 {
			// Amounts with 0 to 8 places, some with trailing zeros, some
			// negative, some with positive exponents.
			d := decimal.New(rng.Int64N(2_000_000_000)-1_000_000_000, -int32(rng.IntN(9)))
			if rng.IntN(10) == 0 {
				d = decimal.New(rng.Int64N(1000), int32(rng.IntN(3)))
			}
			if got, want := c.Format(d), formatByDefinition(c, d); got != want {
				t.Fatalf("%s.Format(%s) = %q, want %q", c, d.String(), got, want)
			}
		}
	}
}
