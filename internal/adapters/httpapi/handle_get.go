package httpapi

import (
	"net/http"
	"net/url"

	"github.com/orderapi/orderapi/internal/adapters/httpapi/access"
	"github.com/orderapi/orderapi/internal/adapters/httpapi/problem"
	"github.com/orderapi/orderapi/internal/app"
	"github.com/orderapi/orderapi/internal/domain/order"
)

// immutable is the Cache-Control of an order at a given version that shows
// no personal data: events are never changed or removed, so that document
// is the same forever. It is private: the URL is the same for every
// caller, and a shared cache would serve one customer's order to another
// without asking whether they may see it. Vary keeps a browser's cache
// from handing it to another token used in the same browser.
const immutable = "private, max-age=31536000, immutable"

// revalidated is the Cache-Control of an order at a given version that
// shows personal data: the customer's erasure will take it out, and give
// the document another ETag, so a cache may keep it but must ask each time
// whether it is still current.
const revalidated = "private, no-cache"

// handleGetOrder returns the order document from the read model or, with
// ?version= or ?as_of=, as it was then, rebuilt from its events; 304 when
// the client's copy (If-None-Match) is that document. ?min_position= asks
// for an answer that includes that event.
func handleGetOrder(svc *app.Service) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, err := pathID(r, "order_id")
		if err != nil {
			problem.Write(w, r, err)
			return
		}
		var q url.Values // most reads have no query: nothing to parse
		if r.URL.RawQuery != "" {
			q = r.URL.Query()
		}
		at, past, err := pointInTime(q)
		minPos, minErr := minPosition(q)
		if err := order.Merge(err, minErr); err != nil {
			problem.Write(w, r, err)
			return
		}
		oq := app.OrderQuery{ID: id, MinPosition: minPos}
		if past {
			oq.At = &at
		}
		o, src, err := svc.ReadOrder(r.Context(), access.Principal(r.Context()), oq)
		if err != nil {
			writeReadProblem(w, r, src, err)
			return
		}
		tag := opaqueTag(&o)
		match, err := notModified(r, tag)
		if err != nil {
			problem.Write(w, r, err)
			return
		}
		h := w.Header()
		setReadSource(h, src)
		h.Set("ETag", `"`+tag+`"`)
		// Only a version is fixed, but for what an erasure takes out of
		// it. As of a time close to now, a transaction that began before
		// it may not have committed yet, so an as_of answer is no more
		// cacheable than the current order.
		if q.Has("version") {
			if holdsPersonalData(&o) {
				h.Set("Cache-Control", revalidated)
			} else {
				h.Set("Cache-Control", immutable)
			}
			h.Add("Vary", "Authorization")
		}
		if match {
			w.WriteHeader(http.StatusNotModified)
			return
		}
		writeOrder(w, http.StatusOK, o)
	})
}

// pointInTime parses ?version= (1 or more) or ?as_of= (RFC 3339), which
// exclude each other, naming every bad one; past is false when neither is
// given.
func pointInTime(q url.Values) (at app.PointInTime, past bool, err error) {
	version, byVersion, versionErr := intParam(q, "version", 1, maxVersion, 0)
	asOf, byTime, asOfErr := timeParam(q, "as_of")
	if byVersion && byTime {
		// Both are named; one already wrong says so instead.
		if versionErr == nil {
			versionErr = order.Invalid("version", order.FieldBadFormat, "must not be given with as_of")
		}
		if asOfErr == nil {
			asOfErr = order.Invalid("as_of", order.FieldBadFormat, "must not be given with version")
		}
	}
	if err := order.Merge(versionErr, asOfErr); err != nil {
		return app.PointInTime{}, false, err
	}
	switch {
	case byVersion:
		return app.AtVersion(version), true, nil
	case byTime:
		return app.AsOf(asOf), true, nil
	}
	return app.PointInTime{}, false, nil
}
