// Package timetext writes and reads instants as RFC 3339 text for the
// adapters: the event codec, snapshots and the HTTP answers.
//
// The domain keeps every instant it accepts within four-digit years
// (order.CheckTime). Events stored before it did may hold an instant a
// client sent near the end of year 9999 or the start of year 0000 in a
// far offset, which lies in year 10000 or -1 in UTC: Go writes those with
// five or signed digits, and RFC 3339 parsing refuses them. Parse reads
// them back, and Normal picks an offset that gives them a four-digit year
// again, so that such an event stays readable and is shown as valid
// RFC 3339, the same instant the client sent.
package timetext

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// farthestOffset is the largest offset RFC 3339 can write: ±23:59.
const farthestOffset = 23*3600 + 59*60

var (
	behindUTC = time.FixedZone("", -farthestOffset)
	aheadUTC  = time.FixedZone("", farthestOffset)
)

// Normal returns t in UTC when its UTC year has four digits; otherwise in
// the farthest offset towards a four-digit year (-23:59 for year 10000,
// +23:59 for year -1), or in UTC again when even that is not enough.
func Normal(t time.Time) time.Time {
	u := t.UTC()
	switch y := u.Year(); {
	case y > 9999:
		if b := u.In(behindUTC); b.Year() <= 9999 {
			return b
		}
	case y < 0:
		if a := u.In(aheadUTC); a.Year() >= 0 {
			return a
		}
	}
	return u
}

// Format writes Normal(t) with the layout.
func Format(t time.Time, layout string) string {
	return Normal(t).Format(layout)
}

// ParseRFC3339 reads what a client sends as RFC 3339 text, and nothing
// more: Go's parser also takes offsets of 24 hours or 60 minutes
// ("+24:00", "-23:60") and a comma before the fraction of a second,
// which RFC 3339 does not have.
func ParseRFC3339(s string) (time.Time, error) {
	if strings.ContainsRune(s, ',') {
		return time.Time{}, fmt.Errorf("time %q: a comma is no RFC 3339 decimal point", s)
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, err
	}
	if n := len(s); s[n-1] != 'Z' {
		hours, minutes := s[n-5:n-3], s[n-2:]
		if hours > "23" || minutes > "59" {
			return time.Time{}, fmt.Errorf("time %q: offset %s is not an RFC 3339 offset", s, s[n-6:])
		}
	}
	return t, nil
}

// Parse reads RFC 3339 text, with or without a fraction of a second, and
// returns the instant in UTC. Besides four-digit years it reads the years
// Go writes outside them ("10000-01-01T23:58:59Z", "-0001-12-31T00:01:00Z").
func Parse(s string) (time.Time, error) {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err == nil {
		return t.UTC(), nil
	}
	if t, ok := parseExtendedYear(s); ok {
		return t, nil
	}
	return time.Time{}, fmt.Errorf("time %q: %w", s, err)
}

// parseExtendedYear reads a year of five or more digits, or a negative
// one, by parsing the rest with a stand-in four-digit year of the same
// place in the 400-year Gregorian cycle (whose calendar repeats exactly)
// and moving the result by whole cycles.
func parseExtendedYear(s string) (time.Time, bool) {
	sign := 1
	rest := s
	if strings.HasPrefix(rest, "-") {
		sign, rest = -1, rest[1:]
	}
	dash := strings.IndexByte(rest, '-')
	if dash < 4 || (sign == 1 && dash == 4) {
		return time.Time{}, false
	}
	digits := rest[:dash]
	for _, c := range digits {
		if c < '0' || c > '9' {
			return time.Time{}, false
		}
	}
	year, err := strconv.Atoi(digits)
	if err != nil || year > 1_000_000 {
		return time.Time{}, false
	}
	year *= sign
	standIn := 2000 + ((year%400)+400)%400
	t, err := time.Parse(time.RFC3339Nano, strconv.Itoa(standIn)+rest[dash:])
	if err != nil {
		return time.Time{}, false
	}
	return t.AddDate(year-standIn, 0, 0).UTC(), true
}
