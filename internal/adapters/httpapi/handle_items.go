package httpapi

import (
	"net/http"

	"github.com/orderapi/orderapi/internal/adapters/httpapi/jsonbody"
	"github.com/orderapi/orderapi/internal/adapters/httpapi/problem"
	"github.com/orderapi/orderapi/internal/app"
)

// handleAddItem adds a product line to a draft order.
func handleAddItem(svc *app.Service, fp Fingerprinter) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		t, err := commandTarget(w, r, fp)
		if err != nil {
			problem.Write(w, r, err)
			return
		}
		item, err := jsonbody.Decode(w, r, jsonbody.MaxBytes, addItemRequest.newItem)
		if err != nil {
			writeRefusal(w, r, svc, t.Idempotency, writeChanged, err)
			return
		}
		res, err := svc.AddItem(r.Context(), t, item)
		if err != nil {
			problem.Write(w, r, err)
			return
		}
		writeResult(w, r, http.StatusOK, res)
	})
}

// handleRemoveItem removes a product line from a draft order. It takes
// no body, and ignores one within the limit of every body.
func handleRemoveItem(svc *app.Service, fp Fingerprinter) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		t, err := commandTarget(w, r, fp)
		if err == nil {
			err = jsonbody.Ignore(w, r, jsonbody.MaxBytes)
		}
		if err != nil {
			problem.Write(w, r, err)
			return
		}
		productID, err := pathID(r, "product_id")
		if err != nil {
			problem.Write(w, r, err)
			return
		}
		res, err := svc.RemoveItem(r.Context(), t, productID)
		if err != nil {
			problem.Write(w, r, err)
			return
		}
		writeResult(w, r, http.StatusOK, res)
	})
}
