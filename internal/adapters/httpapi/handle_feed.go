package httpapi

import (
	"context"
	"net/http"
	"strings"
	"time"

	"github.com/orderapi/orderapi/internal/adapters/cursor"
	"github.com/orderapi/orderapi/internal/adapters/httpapi/livefeed"
	"github.com/orderapi/orderapi/internal/adapters/httpapi/problem"
	"github.com/orderapi/orderapi/internal/app"
	"github.com/orderapi/orderapi/internal/domain/order"
)

// feedPath is the global feed's route.
const feedPath = "/v1/events"

// handleFeed serves the global feed of every order's events: one page as
// JSON, or, to a client that accepts text/event-stream, a live stream of
// server-sent events that follows new appends.
func handleFeed(feed *app.Service, live *livefeed.Feed, cursors *cursor.Signer, readTimeout time.Duration) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// The answer depends on Accept; caches must keep the two apart.
		w.Header().Add("Vary", "Accept")
		q, unsigned, err := feedQuery(r, cursors)
		if err == nil && unsigned != "" {
			// Bounded like the live feed's reads: the timeout middleware
			// leaves a live feed alone.
			ctx, cancel := context.WithTimeout(r.Context(), readTimeout)
			err = trustUnsigned(unsigned)(feed.FeedCursorExists(ctx, q.After))
			cancel()
		}
		if err != nil {
			problem.Write(w, r, err)
			return
		}
		if livefeed.Wanted(r) && r.Method == http.MethodHead {
			live.Head(w, r, func(ctx context.Context) error {
				_, err := feed.Feed(ctx, q)
				return err
			})
			return
		}
		if livefeed.Wanted(r) {
			live.Serve(w, r, q)
			return
		}
		page, err := feed.Feed(r.Context(), q)
		if err != nil {
			problem.Write(w, r, err)
			return
		}
		setReadSource(w.Header(), page.Source)
		writeJSON(w, r, http.StatusOK, toFeedPageJSON(page, cursors))
	})
}

// feedQuery parses after, limit, min_position and type (repeated for
// several types), naming every bad one. A Last-Event-ID header takes the
// place of after: an EventSource sends it when it reconnects, to the URL
// it first opened.
// unsigned names the field (after or Last-Event-ID) whose cursor, the one
// in q.After, is of the unsigned format 1 (see decodeFeedCursor); "" when
// it is signed or absent.
func feedQuery(r *http.Request, cursors *cursor.Signer) (q app.FeedQuery, unsigned string, err error) {
	var (
		v    = r.URL.Query()
		errs fieldErrs
	)
	after := func(field, s string) {
		c, legacy, valid := decodeFeedCursor(cursors, s)
		if !valid {
			errs.add(notIssued(field))
		}
		q.After, unsigned = c, ""
		if legacy {
			unsigned = field
		}
	}
	if s, ok, err := single(v, "after"); err != nil {
		errs.add(err)
	} else if ok {
		after("after", s)
	}
	if s := r.Header.Get("Last-Event-ID"); s != "" {
		after("Last-Event-ID", s)
	}
	// A live feed checks the limit too, though its hub reads large pages
	// whatever it says.
	limit, _, err := intParam(v, "limit", 1, app.MaxFeedPage, app.DefaultFeedPage)
	errs.add(err)
	q.Limit = limit
	q.MinPosition, err = minPosition(v)
	errs.add(err)
	q.Types = v["type"]
	for _, t := range q.Types {
		if !app.KnownFeedEventType(t) {
			errs.add(order.Invalid("type", order.FieldBadFormat,
				"each must be one of "+strings.Join(app.FeedEventTypes, ", ")+"; repeat type for several"))
			break
		}
	}
	return q, unsigned, errs.merge(nil)
}

// isLiveFeed reports whether the request asks for the live feed, which
// stays open as long as its client wants.
func isLiveFeed(r *http.Request) bool {
	return r.Method == http.MethodGet && r.URL.Path == feedPath && livefeed.Wanted(r)
}
