package httpapi

import (
	"context"
	"net/http"

	"github.com/orderapi/orderapi/internal/app"
)

type eventLister interface {
	OrderEvents(ctx context.Context, q app.EventQuery) ([]app.RecordedEvent, error)
}

// handleOrderEvents returns an order's whole history from the event store,
// oldest first: the audit trail behind the order document.
func handleOrderEvents(svc eventLister) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, err := pathID(r, "order_id")
		if err != nil {
			writeError(w, r, err)
			return
		}
		events, err := svc.OrderEvents(r.Context(), app.EventQuery{OrderID: id})
		if err != nil {
			writeError(w, r, err)
			return
		}
		writeJSON(w, r, http.StatusOK, toEventsJSON(events))
	})
}
