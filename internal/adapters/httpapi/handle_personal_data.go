package httpapi

import (
	"net/http"

	"github.com/orderapi/orderapi/internal/adapters/httpapi/jsonbody"
	"github.com/orderapi/orderapi/internal/adapters/httpapi/problem"
	"github.com/orderapi/orderapi/internal/app"
)

// handleErasePersonalData erases a customer's personal data: 204 once it
// is erased, whether by this request or before. Repeating it is always
// safe, so it needs no Idempotency-Key; it checks one as every command
// does, and ignores it. Like the other DELETE it takes no body, and
// ignores one within the limit of every body.
func handleErasePersonalData(svc *app.Service) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		customerID, err := pathID(r, "customer_id")
		if err != nil {
			problem.Write(w, r, err)
			return
		}
		meta, err := metadataFrom(r)
		if err == nil {
			_, err = idempotencyKey(r)
		}
		if err == nil {
			err = jsonbody.Ignore(w, r, jsonbody.MaxBytes)
		}
		if err != nil {
			problem.Write(w, r, err)
			return
		}
		if err := svc.ErasePersonalData(r.Context(), customerID, meta); err != nil {
			problem.Write(w, r, err)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
}
