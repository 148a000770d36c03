package httpapi

import (
	"errors"
	"net/http"

	"github.com/orderapi/orderapi/internal/adapters/httpapi/jsonbody"
	"github.com/orderapi/orderapi/internal/adapters/httpapi/problem"
	"github.com/orderapi/orderapi/internal/app"
)

// handlePlaceOrder places a draft order for shipping.
func handlePlaceOrder(svc *app.Service, fp Fingerprinter) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		t, err := commandTarget(w, r, fp)
		if err != nil {
			problem.Write(w, r, err)
			return
		}
		addr, err := jsonbody.Decode(w, r, jsonbody.MaxBytes, placeOrderRequest.shippingAddress)
		if err != nil {
			writeRefusal(w, r, svc, t.Idempotency, writeChanged, err)
			return
		}
		res, err := svc.PlaceOrder(r.Context(), t, addr)
		if err != nil {
			problem.Write(w, r, err)
			return
		}
		writeResult(w, r, http.StatusOK, res)
	})
}

// handleShipOrder records the hand-over of a placed order to a carrier.
func handleShipOrder(svc *app.Service, fp Fingerprinter) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		t, err := commandTarget(w, r, fp)
		if err != nil {
			problem.Write(w, r, err)
			return
		}
		req, err := jsonbody.Decode(w, r, jsonbody.MaxBytes, shipOrderRequest.checked)
		if err != nil {
			writeRefusal(w, r, svc, t.Idempotency, writeChanged, err)
			return
		}
		res, err := svc.ShipOrder(r.Context(), t, req.TrackingNumber, req.Carrier)
		if err != nil {
			problem.Write(w, r, err)
			return
		}
		writeResult(w, r, http.StatusOK, res)
	})
}

// handleDeliverOrder records the delivery of a shipped order. The body is
// optional: a courier's app may just say "delivered, now".
func handleDeliverOrder(svc *app.Service, fp Fingerprinter) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		t, err := commandTarget(w, r, fp)
		if err != nil {
			problem.Write(w, r, err)
			return
		}
		d, err := jsonbody.Decode(w, r, jsonbody.MaxBytes, deliverOrderRequest.delivery)
		if errors.Is(err, jsonbody.ErrEmpty) {
			d, err = deliverOrderRequest{}.delivery()
		}
		if err != nil {
			writeRefusal(w, r, svc, t.Idempotency, writeChanged, err)
			return
		}
		res, err := svc.DeliverOrder(r.Context(), t, d.at, d.signature)
		if err != nil {
			problem.Write(w, r, err)
			return
		}
		writeResult(w, r, http.StatusOK, res)
	})
}

// handleCancelOrder cancels a draft or placed order.
func handleCancelOrder(svc *app.Service, fp Fingerprinter) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		t, err := commandTarget(w, r, fp)
		if err != nil {
			problem.Write(w, r, err)
			return
		}
		req, err := jsonbody.Decode(w, r, jsonbody.MaxBytes, cancelOrderRequest.checked)
		if err != nil {
			writeRefusal(w, r, svc, t.Idempotency, writeChanged, err)
			return
		}
		res, err := svc.CancelOrder(r.Context(), t, req.Reason, req.CancelledBy)
		if err != nil {
			problem.Write(w, r, err)
			return
		}
		writeResult(w, r, http.StatusOK, res)
	})
}
