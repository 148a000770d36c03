package httpapi

import (
	"fmt"
	"math"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/orderapi/orderapi/internal/adapters/timetext"
	"github.com/orderapi/orderapi/internal/domain/order"
)

// maxVersion is the largest version the store can hold (an integer
// column); a bigger one in a query is out of range rather than a database
// error.
const maxVersion = math.MaxInt32

// intParam parses an integer query parameter given at most once, which
// must lie in [lo, hi]. Its value is def when it is absent or invalid;
// given reports whether it was there.
func intParam(v url.Values, name string, lo, hi, def int) (n int, given bool, err error) {
	s, given, err := single(v, name)
	if err != nil || !given {
		return def, given, err
	}
	n, err = strconv.Atoi(s)
	switch {
	case err != nil && !isDigits(s):
		return def, true, order.Invalid(name, order.FieldBadFormat, "must be an integer")
	case err != nil || n < lo || n > hi:
		return def, true, order.Invalid(name, order.FieldOutOfRange, fmt.Sprintf("must be between %d and %d", lo, hi))
	}
	return n, true, nil
}

// timeParam parses an RFC 3339 query parameter given at most once; given
// reports whether it was there.
func timeParam(v url.Values, name string) (t time.Time, given bool, err error) {
	s, given, err := single(v, name)
	if err != nil || !given {
		return time.Time{}, given, err
	}
	t, err = timetext.ParseRFC3339(s)
	if err != nil {
		msg := `must be an RFC 3339 date-time, e.g. "2025-01-02T15:04:05Z"`
		if strings.Contains(s, " ") {
			// A "+01:00" offset sent unencoded arrives as " 01:00".
			msg += "; encode + in an offset as %2B"
		}
		return time.Time{}, true, order.Invalid(name, order.FieldBadFormat, msg)
	}
	return t, true, nil
}
