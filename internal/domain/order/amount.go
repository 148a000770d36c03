package order

import (
	"math"
	"math/bits"
	"strconv"

	"github.com/shopspring/decimal"
)

// Amount is an exact amount of money held as an integer: Units × 10^-Scale.
// The scale is the number of places it was written with, so "4.50" stays
// 4.50, not 4.5, wherever it goes. An order's figures are sums and
// products of such integers, with no allocation and no pointer to follow;
// what overflows int64 (nothing an order's rules allow) is computed with
// decimal instead. The zero Amount is 0.
type Amount struct {
	units int64
	scale uint8
}

// maxScale is the most places an Amount holds: 10^18 still fits int64.
const maxScale = 18

// pow10 are the powers of ten that fit int64.
var pow10 = [maxScale + 1]int64{1, 10, 100, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18}

// maxAmountUnits is MaxAmount in units of 10^-MaxAmountScale.
const maxAmountUnits = 99_999_999_999_999_999

// AmountFromDecimal is d as an Amount, if it fits one: a coefficient
// within int64 and at most 18 places (positive exponents are multiplied
// out). ok is false otherwise.
func AmountFromDecimal(d decimal.Decimal) (a Amount, ok bool) {
	exp := d.Exponent()
	if n := d.NumDigits(); exp < -maxScale || n > 19 || (n == 19 && !d.Coefficient().IsInt64()) {
		return Amount{}, false
	}
	units := d.CoefficientInt64()
	if exp > 0 {
		if exp > maxScale {
			return Amount{}, units == 0
		}
		if units, ok = mul64(units, pow10[exp]); !ok {
			return Amount{}, false
		}
		return Amount{units: units}, true
	}
	return Amount{units: units, scale: uint8(-exp)}, true
}

// Decimal is the amount as a decimal, with the same exponent.
func (a Amount) Decimal() decimal.Decimal { return decimal.New(a.units, -int32(a.scale)) }

// Scale is the number of places the amount was written with.
func (a Amount) Scale() int { return int(a.scale) }

// IsZero reports whether the amount is 0, at whatever scale.
func (a Amount) IsZero() bool { return a.units == 0 }

// Equal reports whether a and b are the same number, whatever their
// scales ("4.5" equals "4.50").
func (a Amount) Equal(b Amount) bool {
	s := max(a.scale, b.scale)
	x, ok1 := rescale(a.units, a.scale, s)
	y, ok2 := rescale(b.units, b.scale, s)
	if !ok1 || !ok2 {
		return a.Decimal().Equal(b.Decimal())
	}
	return x == y
}

// String writes the amount as exact decimal text with all its places:
// "4.50", "0.0125", "1000".
func (a Amount) String() string {
	var buf [24]byte
	return string(a.appendText(buf[:0]))
}

func (a Amount) appendText(dst []byte) []byte {
	return appendFixed(dst, a.units, int32(a.scale), int32(a.scale))
}

// FormatAmount writes a as Format writes the same decimal.
func (c Currency) FormatAmount(a Amount) string {
	var buf [32]byte
	return string(appendFixed(buf[:0], a.units, int32(a.scale), int32(c.MinorUnits())))
}

// valid reports whether a is within [0, MaxAmount] with at most
// MaxAmountScale places that are not zero (1.00000 is 1).
func (a Amount) valid() bool {
	if a.units < 0 || (a.scale > MaxAmountScale && a.units%pow10[a.scale-MaxAmountScale] != 0) {
		return false
	}
	return !exceedsMax(a.units, a.scale)
}

// exceedsMax reports whether units × 10^-scale, not negative, is more than
// MaxAmount.
func exceedsMax(units int64, scale uint8) bool {
	if scale > MaxAmountScale {
		// Fewer places: drop them, rounding up, so that anything beyond
		// MaxAmount by a fraction still exceeds it.
		p := pow10[scale-MaxAmountScale]
		q := units / p
		if units%p != 0 {
			q++
		}
		return q > maxAmountUnits
	}
	u, ok := rescale(units, scale, MaxAmountScale)
	return !ok || u > maxAmountUnits
}

// lineUnits is Quantity × UnitPrice at the price's scale; ok is false when
// it does not fit int64.
func (i Item) lineUnits() (units int64, ok bool) {
	return mul64(i.UnitPrice.units, i.Quantity)
}

// totalUnits is the sum of the line totals at the largest scale among
// them (0 for none); ok is false when anything overflows int64.
func (o *Order) totalUnits() (units int64, scale uint8, ok bool) {
	for _, it := range o.Items {
		scale = max(scale, it.UnitPrice.scale)
	}
	for _, it := range o.Items {
		line, ok1 := it.lineUnits()
		line, ok2 := rescale(line, it.UnitPrice.scale, scale)
		sum, ok3 := add64(units, line)
		if !ok1 || !ok2 || !ok3 {
			return 0, 0, false
		}
		units = sum
	}
	return units, scale, true
}

// totalWouldExceed reports whether adding the line to the order would take
// its total beyond MaxAmount.
func (o *Order) totalWouldExceed(line Item) bool {
	total, tscale, ok1 := o.totalUnits()
	units, ok2 := line.lineUnits()
	scale := max(tscale, line.UnitPrice.scale)
	total, ok3 := rescale(total, tscale, scale)
	units, ok4 := rescale(units, line.UnitPrice.scale, scale)
	sum, ok5 := add64(total, units)
	if !ok1 || !ok2 || !ok3 || !ok4 || !ok5 {
		// Beyond int64: far beyond MaxAmount, unless something is
		// negative, which nothing an order holds is; decimal says.
		return o.Total().Add(line.LineTotal()).GreaterThan(MaxAmount)
	}
	return exceedsMax(sum, scale)
}

// rescale writes units × 10^-from with to places, to >= from.
func rescale(units int64, from, to uint8) (int64, bool) {
	if to == from {
		return units, true
	}
	if to > maxScale {
		return 0, units == 0
	}
	return mul64(units, pow10[to-from])
}

// mul64 is a × b, ok false if it overflows int64.
func mul64(a, b int64) (int64, bool) {
	if a == 0 || b == 0 {
		return 0, true
	}
	neg := (a < 0) != (b < 0)
	hi, lo := bits.Mul64(absU(a), absU(b))
	if hi != 0 {
		return 0, false
	}
	if neg {
		if lo > 1<<63 {
			return 0, false
		}
		return int64(-lo), true // -(1<<63) wraps to itself, as it should
	}
	if lo > math.MaxInt64 {
		return 0, false
	}
	return int64(lo), true
}

// add64 is a + b, ok false if it overflows int64.
func add64(a, b int64) (int64, bool) {
	s := a + b
	if (a >= 0) == (b >= 0) && (s >= 0) != (a >= 0) {
		return 0, false
	}
	return s, true
}

func absU(a int64) uint64 {
	if a < 0 {
		return uint64(-a) // -MinInt64 wraps to 1<<63, its magnitude
	}
	return uint64(a)
}

// appendFixed writes units × 10^-places with at least minor places and no
// trailing zeros beyond them. places <= 18.
func appendFixed(out []byte, units int64, places, minor int32) []byte {
	var dbuf, pbuf [24]byte
	digits := strconv.AppendUint(dbuf[:0], absU(units), 10)
	// At least one digit before the point: 0.05, not .05.
	if pad := int(places) + 1 - len(digits); pad > 0 {
		padded := pbuf[:0]
		for range pad {
			padded = append(padded, '0')
		}
		digits = append(padded, digits...)
	}
	if units < 0 {
		out = append(out, '-')
	}
	point := len(digits) - int(places)
	frac := digits[point:]
	for int32(len(frac)) > minor && frac[len(frac)-1] == '0' {
		frac = frac[:len(frac)-1]
	}
	out = append(out, digits[:point]...)
	if len(frac) > 0 || minor > 0 {
		out = append(out, '.')
		out = append(out, frac...)
		for i := int32(len(frac)); i < minor; i++ {
			out = append(out, '0')
		}
	}
	return out
}

// MustParseAmount is ParseAmount for amounts written in the code, which
// must be valid: it panics otherwise.
func MustParseAmount(s string) Amount {
	a, err := ParseAmount("amount", s)
	if err != nil {
		panic(err)
	}
	return a
}

// AppendText appends the text String writes: an Amount is an
// encoding.TextAppender.
func (a Amount) AppendText(b []byte) ([]byte, error) { return a.appendText(b), nil }
