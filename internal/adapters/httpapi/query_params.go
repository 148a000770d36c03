package httpapi

import (
	"fmt"
	"math"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/orderapi/orderapi/internal/adapters/httpapi/problem"
	"github.com/orderapi/orderapi/internal/adapters/timetext"
	"github.com/orderapi/orderapi/internal/app"
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
	case !plainInteger(s):
		return def, true, order.Invalid(name, order.FieldBadFormat, "must be an integer in plain decimal digits, e.g. 42, without + or leading zeros")
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

// minPosition parses min_position, the global position of an event (a
// command's X-Event-Position) that a read must include, given at most
// once; 0 when absent.
func minPosition(v url.Values) (int64, error) {
	s, ok, err := single(v, "min_position")
	if err != nil || !ok {
		return 0, err
	}
	n, err := strconv.ParseInt(s, 10, 64)
	switch {
	case !plainInteger(s):
		return 0, order.Invalid("min_position", order.FieldBadFormat, "must be an event position in plain decimal digits, e.g. 42, without + or leading zeros")
	case err != nil || n < 1:
		return 0, order.Invalid("min_position", order.FieldOutOfRange, "must be between 1 and 9223372036854775807")
	}
	return n, nil
}

// plainInteger reports whether s is an integer as strconv writes one:
// decimal digits, "-" before a negative one, no "+" and no leading zeros.
// strconv reads "+1" and "01" too; taking them would give one version of
// an order, which never changes, several URLs and so several cache
// entries.
func plainInteger(s string) bool {
	d := strings.TrimPrefix(s, "-")
	return isDigits(d) && (d[0] != '0' || d == s && d == "0")
}

// setReadSource says, on a read's answer, which database answered it:
// X-Read-Source names it ("primary" or a standby's name), and on a
// standby's answer X-Read-Lag-Seconds says how far behind the primary it
// was when last measured. A service without standbys sends neither.
func setReadSource(h http.Header, src app.ReadSource) {
	if src.Name == "" {
		return
	}
	h.Set("X-Read-Source", src.Name)
	if src.Standby {
		h.Set("X-Read-Lag-Seconds", formatSeconds(src.Lag))
	}
}

// writeReadProblem answers a read's error. One that a database gave, a 4xx
// (the order not found there, a version it has not reached there), names
// that database as a success does: a lagging standby's 404 must say it is
// a standby's. A 5xx is no database's answer, and names none.
func writeReadProblem(w http.ResponseWriter, r *http.Request, src app.ReadSource, err error) {
	if p, internal := problem.From(err); !internal && p.Status < http.StatusInternalServerError {
		setReadSource(w.Header(), src)
	}
	problem.Write(w, r, err)
}
