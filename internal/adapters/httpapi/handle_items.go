package httpapi

import (
	"context"
	"net/http"

	"github.com/google/uuid"
	"github.com/orderapi/orderapi/internal/app"
	"github.com/orderapi/orderapi/internal/domain/order"
)

type itemAdder interface {
	replayer
	AddItem(ctx context.Context, t app.Target, item order.NewItem) (app.Result, error)
}

// handleAddItem adds a product line to a draft order.
func handleAddItem(svc itemAdder) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		t, err := commandTarget(w, r)
		if err != nil {
			writeError(w, r, err)
			return
		}
		item, err := decode(w, r, maxBodyBytes, addItemRequest.newItem)
		if err != nil {
			writeRefusal(w, r, svc, t.Idempotency, writeChanged, err)
			return
		}
		res, err := svc.AddItem(r.Context(), t, item)
		if err != nil {
			writeError(w, r, err)
			return
		}
		writeResult(w, r, http.StatusOK, res)
	})
}

type itemRemover interface {
	RemoveItem(ctx context.Context, t app.Target, productID uuid.UUID) (app.Result, error)
}

// handleRemoveItem removes a product line from a draft order.
func handleRemoveItem(svc itemRemover) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		t, err := commandTarget(w, r)
		if err != nil {
			writeError(w, r, err)
			return
		}
		productID, err := pathID(r, "product_id")
		if err != nil {
			writeError(w, r, err)
			return
		}
		res, err := svc.RemoveItem(r.Context(), t, productID)
		if err != nil {
			writeError(w, r, err)
			return
		}
		writeResult(w, r, http.StatusOK, res)
	})
}
