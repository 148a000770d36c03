package httpapi

import (
	"net/http"
	"net/url"

	"github.com/orderapi/orderapi/internal/adapters/httpapi/access"
	"github.com/orderapi/orderapi/internal/adapters/httpapi/problem"
	"github.com/orderapi/orderapi/internal/app"
	"github.com/orderapi/orderapi/internal/domain/order"
)

// handleOrderEvents returns a page of an order's history from the event
// store, oldest first: the audit trail behind the order document.
func handleOrderEvents(svc *app.Service) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, err := pathID(r, "order_id")
		if err != nil {
			problem.Write(w, r, err)
			return
		}
		q, err := eventQuery(r.URL.Query())
		if err != nil {
			problem.Write(w, r, err)
			return
		}
		q.OrderID = id
		page, err := svc.OrderEventPage(r.Context(), access.Principal(r.Context()), q)
		if err != nil {
			writeReadProblem(w, r, page.Source, err)
			return
		}
		doc := toEventsJSON(page.Events)
		doc.NextAfterVersion = page.Next
		setReadSource(w.Header(), page.Source)
		writeJSON(w, r, http.StatusOK, doc)
	})
}

// eventQuery parses after_version, limit and min_position, naming every
// bad one.
func eventQuery(v url.Values) (app.EventQuery, error) {
	after, _, afterErr := intParam(v, "after_version", 0, maxVersion, 0)
	limit, _, limitErr := intParam(v, "limit", 1, app.MaxEventPage, app.DefaultEventPage)
	minPos, minErr := minPosition(v)
	return app.EventQuery{AfterVersion: after, Limit: limit, MinPosition: minPos}, order.Merge(afterErr, limitErr, minErr)
}
