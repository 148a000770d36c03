package order

import (
	"fmt"
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

// AmountPattern is the regular expression every amount's text matches,
// as api/openapi.yaml states it.
const AmountPattern = `^[0-9]{1,13}(\.[0-9]{1,4})?$`

// ParseAmount parses a non-negative amount written as decimal text, such as
// "19.99", keeping its places. It returns a KindInvalid error naming field
// when the text is not of the form AmountPattern states, and so out of
// range.
func ParseAmount(field, s string) (Amount, error) {
	a, ok := parseAmountText(s)
	if !ok {
		return Amount{}, Invalid(field, FieldBadFormat,
			fmt.Sprintf("must be a non-negative decimal with at most %d digits before the point and %d after, e.g. \"19.99\"", maxAmountIntLen, MaxAmountScale))
	}
	return a, nil
}

// parseAmountText reads text of the form AmountPattern states (1 to 13
// digits, then optionally a point and 1 to 4 digits), byte by byte: at
// most 17 digits, so the units always fit int64.
func parseAmountText(s string) (Amount, bool) {
	var a Amount
	intLen := -1
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c >= '0' && c <= '9':
			a.units = a.units*10 + int64(c-'0')
		case c == '.' && intLen < 0:
			intLen = i
		default:
			return Amount{}, false
		}
	}
	if intLen < 0 {
		intLen = len(s)
	} else {
		a.scale = uint8(len(s) - intLen - 1)
		if a.scale < 1 || a.scale > MaxAmountScale {
			return Amount{}, false
		}
	}
	if intLen < 1 || intLen > maxAmountIntLen {
		return Amount{}, false
	}
	return a, true
}

// validAmount reports whether a is within [0, MaxAmount] with at most
// MaxAmountScale decimal places.
func validAmount(a Amount) bool { return a.valid() }

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
	var buf [48]byte
	return string(appendFixed(buf[:0], coef, places, minor))
}
