package httpapi

import (
	"context"
	"mime"
	"net/http"
	"strconv"
	"strings"

	"github.com/orderapi/orderapi/internal/app"
	"github.com/orderapi/orderapi/internal/domain/order"
)

// feedPath is the global feed's route.
const feedPath = "/v1/events"

type feedReader interface {
	Feed(ctx context.Context, q app.FeedQuery) (app.FeedPage, error)
}

// handleFeed serves the global feed of every order's events: one page as
// JSON, or, to a client that accepts text/event-stream, a live stream of
// server-sent events that follows new appends.
func handleFeed(feed feedReader, live *liveFeed) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// The answer depends on Accept; caches must keep the two apart.
		w.Header().Add("Vary", "Accept")
		q, err := feedQuery(r)
		if err != nil {
			writeError(w, r, err)
			return
		}
		if wantsEventStream(r) {
			live.serve(w, r, q)
			return
		}
		page, err := feed.Feed(r.Context(), q)
		if err != nil {
			writeError(w, r, err)
			return
		}
		writeJSON(w, r, http.StatusOK, toFeedPageJSON(page))
	})
}

// feedQuery parses after, limit and type (repeated for several types),
// naming every bad one. A Last-Event-ID header takes the place of after:
// an EventSource sends it when it reconnects, to the URL it first opened.
func feedQuery(r *http.Request) (app.FeedQuery, error) {
	var (
		v    = r.URL.Query()
		q    app.FeedQuery
		errs fieldErrs
	)
	if s, ok, err := single(v, "after"); err != nil {
		errs.add(err)
	} else if ok {
		c, valid := decodeFeedCursor(s)
		if !valid {
			errs.add(order.Invalid("after", order.FieldBadFormat,
				"is not a feed cursor this API issued; use next_cursor or an event's id as given"))
		}
		q.After = c
	}
	if s := r.Header.Get("Last-Event-ID"); s != "" {
		c, valid := decodeFeedCursor(s)
		if !valid {
			errs.add(order.Invalid("Last-Event-ID", order.FieldBadFormat,
				"is not an event id of this feed; send the id of the last event received"))
		}
		q.After = c
	}
	// A live feed checks the limit too, though its hub reads large pages
	// whatever it says.
	limit, _, err := intParam(v, "limit", 1, app.MaxFeedPage, app.DefaultFeedPage)
	errs.add(err)
	q.Limit = limit
	q.Types = v["type"]
	for _, t := range q.Types {
		if !order.KnownEventType(t) {
			errs.add(order.Invalid("type", order.FieldBadFormat,
				"each must be one of "+strings.Join(order.EventTypes, ", ")+"; repeat type for several"))
			break
		}
	}
	return q, errs.merge(nil)
}

// wantsEventStream reports whether the request's Accept header names
// text/event-stream (with a q above zero): what an EventSource sends.
// Anything else gets JSON.
func wantsEventStream(r *http.Request) bool {
	for _, header := range r.Header.Values("Accept") {
		for _, item := range strings.Split(header, ",") {
			mt, params, err := mime.ParseMediaType(strings.TrimSpace(item))
			if err != nil || mt != "text/event-stream" {
				continue
			}
			if s, ok := params["q"]; ok {
				if q, err := strconv.ParseFloat(s, 64); err != nil || q <= 0 {
					continue
				}
			}
			return true
		}
	}
	return false
}

// isLiveFeed reports whether the request asks for the live feed, which
// stays open as long as its client wants.
func isLiveFeed(r *http.Request) bool {
	return r.Method == http.MethodGet && r.URL.Path == feedPath && wantsEventStream(r)
}
