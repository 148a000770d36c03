package httpapi

import (
	"net/http"

	"github.com/orderapi/orderapi/internal/adapters/httpapi/access"
	"github.com/orderapi/orderapi/internal/adapters/httpapi/jsonbody"
	"github.com/orderapi/orderapi/internal/adapters/httpapi/problem"
	"github.com/orderapi/orderapi/internal/app"
)

// handleCreateOrder starts an order: a customer's own when customer_id is
// left out. The client may choose its id, which
// makes a retried create answer 409 order_exists instead of making a
// second order; or send an Idempotency-Key, which makes it answer 201 again
// with the order the first request created.
func handleCreateOrder(svc *app.Service, fp Fingerprinter) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		meta, err := metadataFrom(r)
		if err != nil {
			problem.Write(w, r, err)
			return
		}
		idem, err := idempotencyOf(w, r, fp, app.AnyVersion)
		if err != nil {
			problem.Write(w, r, err)
			return
		}
		by := access.Principal(r.Context())
		in, err := jsonbody.Decode(w, r, jsonbody.MaxBytes, func(req createOrderRequest) (app.NewOrder, error) {
			return req.newOrder(by)
		})
		if err != nil {
			writeRefusal(w, r, svc, idem, writeCreated, err)
			return
		}
		in.Idempotency = idem
		res, err := svc.CreateOrder(r.Context(), in, meta)
		if err != nil {
			problem.Write(w, r, err)
			return
		}
		writeCreated(w, r, res)
	})
}
