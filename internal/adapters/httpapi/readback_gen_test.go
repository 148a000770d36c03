package httpapi

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/orderapi/orderapi/internal/domain/order"
)

// Generators of the values a hostile or careless client sends, for
// TestWhatTheAPIAcceptsReadsBackIdentically: the edges of each field's
// bounds, of JSON's escapes and of RFC 3339, and Unicode that encoders
// like to normalise. Some are refused; whatever is accepted must read
// back as it was sent.

// texts are free text at the edges of what the domain accepts.
var texts = []string{
	"Mug", "Ada Lovelace", "Zoë Ångström", "e\u0301", "é", "👩\u200d💻", "שלום", "日本語のテキスト",
	"\U0001F375 tea", "\U0010FFFD", "\uE000", "a\u2028b\u2029c", "\u00a0nbsp\u00a0", "  padded  ",
	"quote\" back\\slash / solidus", "<script>&amp;</script>", "\ufeffBOM", "\u200b", "\u202eevil",
	"x\u200dy", "Tab\there", "nul\x00", "del\x7f", "", " ", "\uFFFD", "\u0301", "١٢٣", "Ꙭ",
}

// text returns a text for a field of at most maxLen characters: one of
// texts, or one at the length limit or just past it.
func text(rng *rand.Rand, maxLen int) string {
	switch rng.IntN(10) {
	case 0:
		return strings.Repeat("𝄞", maxLen) // four bytes a character
	case 1:
		return strings.Repeat("é", maxLen+1)
	case 2:
		return strings.Repeat("e\u0301", maxLen/2) // as many marks as letters
	}
	return texts[rng.IntN(len(texts))]
}

var amounts = []string{
	"0", "0.0000", "0.0001", "19.99", "4.50", "00001.10", "9999999999999.9999", "1.5", "100",
	"1.23456", "1e3", "-1", "0x10", " 1", "1.", ".5", "12345678901234", "١٢",
}

func amount(rng *rand.Rand) string {
	if rng.IntN(3) == 0 {
		return strconv.Itoa(rng.IntN(10000)) + "." + strconv.Itoa(rng.IntN(100))
	}
	return amounts[rng.IntN(len(amounts))]
}

var quantities = []string{"1", "2", "7", "999999", "1000000", "1000001", "0", "-5", "9007199254740993", "1.0", "1e2", `"3"`}

var currencies = []string{"USD", "EUR", "JPY", "BHD", "CLF", "KWD", "ISK", "usd", "XTS", "ZZZ"}

var countries = []string{"GB", "US", "JP", "DE", "CH", "gb", "UK", "XK"}

// offsets are RFC 3339 offsets and some that are not (Go reads them).
var offsets = []string{"Z", "+00:00", "-00:00", "+05:45", "-09:30", "+14:00", "-23:59", "+23:59", "+24:00", "-23:60"}

// deliveredAt returns a delivery time for an order shipped at shipped,
// when the clock says now: within the rules, at their edges, or past
// them, in any offset and with any number of fractional digits. Empty
// means none (the server takes now).
func deliveredAt(rng *rand.Rand, shipped, now time.Time) string {
	var at time.Time
	switch rng.IntN(12) {
	case 0:
		return ""
	case 1:
		at = shipped
	case 2:
		at = shipped.Add(-time.Microsecond)
	case 3:
		at = now.Add(order.MaxClockSkew - 10*time.Second)
	case 4:
		at = now.Add(order.MaxClockSkew + time.Minute)
	case 5:
		return "9999-12-31T23:59:59-23:59"
	case 6:
		return "0000-01-01T00:00:00+23:59"
	case 7:
		return now.UTC().Format("2006-01-02t15:04:05z")
	case 8:
		return now.UTC().Format("2006-01-02T15:04:05") + "Z" // no offset problem: plain
	default:
		at = now.Add(-time.Duration(rng.Int64N(int64(time.Minute))))
	}
	return rfc3339(rng, at)
}

// rfc3339 writes at in a random offset with 0 to 9 fractional digits.
func rfc3339(rng *rand.Rand, at time.Time) string {
	off := offsets[rng.IntN(len(offsets))]
	seconds := 0
	if off != "Z" {
		h, _ := strconv.Atoi(off[1:3])
		m, _ := strconv.Atoi(off[4:6])
		seconds = h*3600 + m*60
		if off[0] == '-' {
			seconds = -seconds
		}
	}
	local := at.In(time.FixedZone("", seconds))
	s := local.Format("2006-01-02T15:04:05")
	if digits := rng.IntN(10); digits > 0 {
		frac := fmt.Sprintf("%09d", local.Nanosecond())
		s += "." + frac[:digits]
	}
	return s + off
}

// jsonText writes s as a JSON string: as encoding/json would, or with
// every character beyond ASCII escaped (surrogate pairs included), so
// that the server's decoder meets both.
func jsonText(rng *rand.Rand, s string) string {
	if !utf8.ValidString(s) || rng.IntN(2) == 0 {
		var b bytes.Buffer
		enc := json.NewEncoder(&b)
		enc.SetEscapeHTML(rng.IntN(2) == 0)
		_ = enc.Encode(s)
		return strings.TrimSuffix(b.String(), "\n")
	}
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		switch {
		case r == '"' || r == '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		case r < 0x20 || r > 0x7e:
			if r > 0xffff {
				r -= 0x10000
				fmt.Fprintf(&b, `\u%04x\u%04x`, 0xd800+(r>>10), 0xdc00+(r&0x3ff))
			} else {
				fmt.Fprintf(&b, `\u%04x`, r)
			}
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
	return b.String()
}
