package httpapi

import (
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/orderapi/orderapi/internal/adapters/cursor"
	"github.com/orderapi/orderapi/internal/adapters/httpapi/problem"
	"github.com/orderapi/orderapi/internal/app"
	"github.com/orderapi/orderapi/internal/domain/order"
)

// handleDailyAnalytics answers the daily figures of a range of days, with
// the analytics projection's position and lag in the body and in headers.
// The projection is asynchronous; ?min_position= waits, bounded, for a
// write of the client's to be counted.
func handleDailyAnalytics(svc *app.Service, cursors *cursor.Signer) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q, err := analyticsQuery(r.URL.Query())
		if err != nil {
			problem.Write(w, r, err)
			return
		}
		report, err := svc.DailyAnalytics(r.Context(), q)
		if err != nil {
			problem.Write(w, r, err)
			return
		}
		h := w.Header()
		h.Set("X-Projection-Position", strconv.FormatInt(report.Progress.Position.Position, 10))
		h.Set("X-Projection-Lag-Events", strconv.FormatInt(report.Progress.LagEvents, 10))
		h.Set("X-Projection-Lag-Seconds", formatSeconds(report.Progress.Lag))
		// The figures change as the projection advances.
		h.Set("Cache-Control", "no-store")
		writeJSON(w, r, http.StatusOK, toAnalyticsJSON(report, cursors))
	})
}

// analyticsQuery parses from, to, currency and min_position, naming every
// bad one, along with the ranges the app refuses.
func analyticsQuery(v url.Values) (app.AnalyticsQuery, error) {
	var (
		q    app.AnalyticsQuery
		errs fieldErrs
		err  error
	)
	q.From = parseDay(v, "from", &errs)
	q.To = parseDay(v, "to", &errs)
	if s, ok, err := single(v, "currency"); err != nil {
		errs.add(err)
	} else if ok {
		q.Currency, err = order.ParseCurrency(s)
		errs.add(err)
	}
	q.MinPosition, err = minPosition(v)
	errs.add(err)
	return q, errs.merge(q.Validate())
}

// parseDay reads a YYYY-MM-DD query parameter as midnight UTC. Absent, it
// is the zero time, which the app's validation reports as required.
func parseDay(v url.Values, name string, errs *fieldErrs) time.Time {
	s, ok, err := single(v, name)
	if err != nil || !ok {
		errs.add(err)
		return time.Time{}
	}
	d, err := time.Parse(time.DateOnly, s)
	if err != nil || len(s) != len(time.DateOnly) {
		errs.add(order.Invalid(name, order.FieldBadFormat, `must be a date as YYYY-MM-DD, e.g. "2025-01-02"`))
		return time.Time{}
	}
	if d.IsZero() {
		// 0001-01-01 is time.Time's zero, which stands for "absent".
		errs.add(order.Invalid(name, order.FieldOutOfRange, "must be after 0001-01-01"))
	}
	return d
}
