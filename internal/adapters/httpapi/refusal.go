package httpapi

import (
	"errors"
	"net/http"

	"github.com/orderapi/orderapi/internal/adapters/httpapi/access"
	"github.com/orderapi/orderapi/internal/adapters/httpapi/problem"
	"github.com/orderapi/orderapi/internal/app"
	"github.com/orderapi/orderapi/internal/domain/order"
)

// writeRefusal answers a command whose body the edge refuses. A body that
// is invalid now may have been accepted by an older build, whose answer
// was lost to the client: when its key recorded this very request, the
// retry is answered with that outcome, as any retry is. Otherwise, and
// for every other error, it is refused as usual.
func writeRefusal(w http.ResponseWriter, r *http.Request, svc *app.Service, idem app.Idempotency, answer resultWriter, err error) {
	if oe, ok := errors.AsType[*order.Error](err); ok && oe.Kind == order.KindInvalid && idem.Key != "" {
		res, found, rerr := svc.Replay(r.Context(), access.Principal(r.Context()), idem)
		if rerr != nil {
			problem.Write(w, r, rerr)
			return
		}
		if found {
			answer(w, r, res)
			return
		}
	}
	problem.Write(w, r, err)
}

// resultWriter answers a command's success.
type resultWriter func(w http.ResponseWriter, r *http.Request, res app.Result)

// writeChanged answers a command on an existing order.
func writeChanged(w http.ResponseWriter, r *http.Request, res app.Result) {
	writeResult(w, r, http.StatusOK, res)
}

// writeCreated answers the command that started an order.
func writeCreated(w http.ResponseWriter, r *http.Request, res app.Result) {
	w.Header().Set("Location", "/v1/orders/"+res.Order.ID.String())
	writeResult(w, r, http.StatusCreated, res)
}
