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
			switch rng.IntN(10) {
			case 0:
				d = decimal.New(rng.Int64N(1000), int32(rng.IntN(3)))
			case 1:
				// The largest coefficients and the most places the fast
				// path takes, and just beyond.
				d = decimal.New(rng.Int64N(2_000_000_000_000_000_000)-1_000_000_000_000_000_000, -int32(rng.IntN(21)))
			}
			if got, want := c.Format(d), formatByDefinition(c, d); got != want {
				t.Fatalf("%s.Format(%s) = %q, want %q", c, d.String(), got, want)
			}
		}
	}
}

func TestLineTotalMatchesMultiplication(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for range 50000 {
		price := decimal.New(rng.Int64N(2_000_000_000_000)-1_000_000_000_000, -int32(rng.IntN(6)))
		if rng.IntN(20) == 0 {
			price = decimal.New(rng.Int64N(1<<62), -int32(rng.IntN(6)))
		}
		q := rng.Int64N(MaxQuantity + 2)
		amount, ok := AmountFromDecimal(price)
		if !ok {
			t.Fatalf("AmountFromDecimal(%s) does not fit", price)
		}
		it := Item{UnitPrice: amount, Quantity: q}
		want := price.Mul(decimal.NewFromInt(q))
		got := it.LineTotal()
		if !got.Equal(want) || got.Exponent() != want.Exponent() {
			t.Fatalf("%s × %d = %s (exponent %d), want %s (exponent %d)", price, q, got, got.Exponent(), want, want.Exponent())
		}
	}
}
