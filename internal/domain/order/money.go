package order

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/shopspring/decimal"
)

// Amount limits: at most 13 digits before the point and 4 after, so every
// amount fits NUMERIC(17,4) and no input can make arithmetic unbounded.
const (
	MaxAmountScale   = 4
	maxAmountIntLen  = 13
	MaxQuantity      = 1_000_000
	MaxItemsPerOrder = 100
)

// MaxAmount is the largest amount an order may hold, in a line or in total.
var MaxAmount = decimal.RequireFromString("9999999999999.9999")

// amountText is the only accepted text form of an amount: plain digits, an
// optional fraction, no sign, no exponent. Checking the shape before
// decimal parsing keeps "1E1000000000" from becoming a billion-digit number.
var amountText = regexp.MustCompile(AmountPattern)

// AmountPattern is the regular expression every amount's text matches,
// as api/openapi.yaml states it.
const AmountPattern = `^[0-9]{1,13}(\.[0-9]{1,4})?$`

// ParseAmount parses a non-negative amount written as decimal text, such as
// "19.99". It returns a KindInvalid error naming field when the text is not
// of that form or is out of range.
func ParseAmount(field, s string) (decimal.Decimal, error) {
	if !amountText.MatchString(s) {
		return decimal.Decimal{}, Invalid(field, FieldBadFormat,
			fmt.Sprintf("must be a non-negative decimal with at most %d digits before the point and %d after, e.g. \"19.99\"", maxAmountIntLen, MaxAmountScale))
	}
	d, err := decimal.NewFromString(s)
	if err != nil {
		return decimal.Decimal{}, Invalid(field, FieldBadFormat, "is not a decimal number")
	}
	return d, nil
}

// validAmount reports whether d is within [0, MaxAmount] with at most
// MaxAmountScale decimal places.
func validAmount(d decimal.Decimal) bool {
	return !d.IsNegative() && d.LessThanOrEqual(MaxAmount) && d.Truncate(MaxAmountScale).Equal(d)
}

// Currency is an ISO 4217 alphabetic code, such as "USD".
type Currency string

// ParseCurrency accepts an active ISO 4217 code in upper case.
func ParseCurrency(s string) (Currency, error) {
	if _, ok := currencyMinorUnits[s]; !ok {
		return "", Invalid("currency", FieldBadCurrency, "must be an active ISO 4217 code in upper case, e.g. \"USD\"")
	}
	return Currency(s), nil
}

// MinorUnits is the number of decimal places the currency uses (2 for USD,
// 0 for JPY, 3 for KWD).
func (c Currency) MinorUnits() int {
	return currencyMinorUnits[string(c)]
}

// Format writes an amount as exact decimal text with at least the
// currency's minor units ("10.00" for USD, "1000" for JPY) and never fewer
// places than the amount needs ("0.0125" stays so).
func (c Currency) Format(d decimal.Decimal) string {
	minor := int32(c.MinorUnits())
	if exp := d.Exponent(); exp <= 0 && exp >= -18 && d.NumDigits() <= 18 {
		// Every amount an order can hold: int64 arithmetic, not big.Int.
		return formatFixed(d.CoefficientInt64(), -exp, minor)
	}
	if -d.Exponent() <= minor {
		return d.StringFixed(minor)
	}
	// More places than the currency's: write them all, exactly, then drop
	// the trailing zeros beyond the currency's (1.5000 EUR is "1.50").
	s := d.StringFixed(-d.Exponent())
	dot := strings.IndexByte(s, '.')
	end := len(s)
	for end > dot+1+int(minor) && s[end-1] == '0' {
		end--
	}
	if end == dot+1 {
		end = dot // no places left: no point
	}
	return s[:end]
}

// formatFixed writes coef × 10^-places with at least minor places and no
// trailing zeros beyond them. |coef| < 10^18, places <= 18.
func formatFixed(coef int64, places, minor int32) string {
	var dbuf [24]byte
	var obuf [48]byte
	u := uint64(coef)
	if coef < 0 {
		u = uint64(-coef)
	}
	digits := strconv.AppendUint(dbuf[:0], u, 10)
	// At least one digit before the point: 0.05, not .05.
	for int32(len(digits)) <= places {
		digits = append([]byte{'0'}, digits...)
	}
	point := len(digits) - int(places)
	frac := digits[point:]
	for int32(len(frac)) > minor && frac[len(frac)-1] == '0' {
		frac = frac[:len(frac)-1]
	}
	out := obuf[:0]
	if coef < 0 {
		out = append(out, '-')
	}
	out = append(out, digits[:point]...)
	if len(frac) > 0 || minor > 0 {
		out = append(out, '.')
		out = append(out, frac...)
		for i := int32(len(frac)); i < minor; i++ {
			out = append(out, '0')
		}
	}
	return string(out)
}
