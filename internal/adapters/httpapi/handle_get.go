package httpapi

import (
	"context"
	"net/http"

	"github.com/google/uuid"
	"github.com/orderapi/orderapi/internal/domain/order"
)

type orderGetter interface {
	GetOrder(ctx context.Context, id uuid.UUID) (order.Order, error)
}

// handleGetOrder returns the order document from the read model, or 304
// when the client's copy (If-None-Match) is current.
func handleGetOrder(svc orderGetter) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, err := pathID(r, "order_id")
		if err != nil {
			writeError(w, r, err)
			return
		}
		o, err := svc.GetOrder(r.Context(), id)
		if err != nil {
			writeError(w, r, err)
			return
		}
		match, err := notModified(r, o.Version)
		if err != nil {
			writeError(w, r, err)
			return
		}
		w.Header().Set("ETag", etag(o.Version))
		if match {
			w.WriteHeader(http.StatusNotModified)
			return
		}
		writeJSON(w, r, http.StatusOK, toOrderJSON(o))
	})
}
