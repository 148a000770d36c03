package httpapi

import (
	"context"
	"mime"
	"net/http"
	"strconv"
	"strings"

	"github.com/orderapi/orderapi/internal/adapters/cursor"
	"github.com/orderapi/orderapi/internal/app"
	"github.com/orderapi/orderapi/internal/domain/order"
)

// feedPath is the global feed's route.
const feedPath = "/v1/events"

// handleFeed serves the global feed of every order's events: one page as
// JSON, or, to a client that accepts text/event-stream, a live stream of
// server-sent events that follows new appends.
func handleFeed(feed *app.Service, live *liveFeed, cursors *cursor.Signer) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// The answer depends on Accept; caches must keep the two apart.
		w.Header().Add("Vary", "Accept")
		q, unsigned, err := feedQuery(r, cursors)
		if err == nil && unsigned != "" {
			// Bounded like the live feed's reads: the timeout middleware
			// leaves a live feed alone.
			ctx, cancel := context.WithTimeout(r.Context(), live.readTimeout)
			err = trustUnsigned(unsigned)(feed.FeedCursorExists(ctx, q.After))
			cancel()
		}
		if err != nil {
			writeError(w, r, err)
			return
		}
		if wantsEventStream(r) && r.Method == http.MethodHead {
			live.head(w, r, feed, q)
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
		writeJSON(w, r, http.StatusOK, toFeedPageJSON(page, cursors))
	})
}

// head answers HEAD as the live feed's GET begins, without opening the
// stream: whether a stream would be admitted now, then its first read,
// decide the status there too.
func (lf *liveFeed) head(w http.ResponseWriter, r *http.Request, feed *app.Service, q app.FeedQuery) {
	if err := tokenLive(principalFrom(r.Context()).Expires); err != nil {
		writeError(w, r, err)
		return
	}
	release, err := lf.streams.acquire(lf.client(r))
	if err != nil {
		writeError(w, r, err)
		return
	}
	release()
	if _, err := feed.Feed(r.Context(), q); err != nil {
		writeError(w, r, err)
		return
	}
	setEventStreamHeaders(w.Header())
	w.WriteHeader(http.StatusOK)
}

// setEventStreamHeaders sets the headers of a live feed's answer.
func setEventStreamHeaders(h http.Header) {
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-store")
	// Proxies such as nginx would otherwise buffer the stream.
	h.Set("X-Accel-Buffering", "no")
}

// feedQuery parses after, limit and type (repeated for several types),
// naming every bad one. A Last-Event-ID header takes the place of after:
// an EventSource sends it when it reconnects, to the URL it first opened.
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
	q.Types = v["type"]
	for _, t := range q.Types {
		if !order.KnownEventType(t) {
			errs.add(order.Invalid("type", order.FieldBadFormat,
				"each must be one of "+strings.Join(order.EventTypes, ", ")+"; repeat type for several"))
			break
		}
	}
	return q, unsigned, errs.merge(nil)
}

// wantsEventStream reports whether the request's Accept header names
// text/event-stream (with a q above zero), what an EventSource sends, and
// prefers it at least as much as JSON (application/json, application/* or
// */*). Anything else gets JSON.
func wantsEventStream(r *http.Request) bool {
	stream, json := 0.0, 0.0
	for _, header := range r.Header.Values("Accept") {
		for _, item := range strings.Split(header, ",") {
			mt, params, err := mime.ParseMediaType(strings.TrimSpace(item))
			if err != nil {
				continue
			}
			q := 1.0
			if s, ok := params["q"]; ok {
				// RFC 9110's qvalue: 0 to 1; anything else is no weight.
				if q, err = strconv.ParseFloat(s, 64); err != nil || !(q >= 0 && q <= 1) {
					continue
				}
			}
			switch mt {
			case "text/event-stream":
				stream = max(stream, q)
			case "application/json", "application/*", "*/*":
				json = max(json, q)
			}
		}
	}
	return stream > 0 && stream >= json
}

// isLiveFeed reports whether the request asks for the live feed, which
// stays open as long as its client wants.
func isLiveFeed(r *http.Request) bool {
	return r.Method == http.MethodGet && r.URL.Path == feedPath && wantsEventStream(r)
}
