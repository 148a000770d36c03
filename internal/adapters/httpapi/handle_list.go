package httpapi

import (
	"context"
	"net/http"
	"net/url"

	"github.com/orderapi/orderapi/internal/app"
	"github.com/orderapi/orderapi/internal/domain/order"
)

type customerOrderLister interface {
	ListCustomerOrders(ctx context.Context, q app.ListQuery) (app.OrderPage, error)
}

// handleCustomerOrders pages a customer's orders, newest first. An unknown
// customer simply has no orders.
func handleCustomerOrders(svc customerOrderLister) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		customerID, err := pathID(r, "customer_id")
		if err != nil {
			writeError(w, r, err)
			return
		}
		q, err := listQuery(r.URL.Query())
		if err != nil {
			writeError(w, r, err)
			return
		}
		q.CustomerID = customerID
		page, err := svc.ListCustomerOrders(r.Context(), q)
		if err != nil {
			writeError(w, r, err)
			return
		}
		writeJSON(w, r, http.StatusOK, toOrderPageJSON(page))
	})
}

// listQuery parses status, limit and cursor, naming every bad one. Query
// values are text whatever their meaning, so a bad one is a 422 field
// problem like a bad body field, not a 400.
func listQuery(v url.Values) (app.ListQuery, error) {
	var (
		q    app.ListQuery
		errs fieldErrs
	)
	if s, ok, err := single(v, "status"); err != nil {
		errs.add(err)
	} else if ok {
		q.Status, err = order.ParseStatus(s)
		errs.add(err)
	}
	limit, _, err := intParam(v, "limit", 1, app.MaxPageSize, app.DefaultPageSize)
	errs.add(err)
	q.Limit = limit
	if s, ok, err := single(v, "cursor"); err != nil {
		errs.add(err)
	} else if ok {
		c, valid := decodeCursor(s)
		if !valid {
			errs.add(order.Invalid("cursor", order.FieldBadFormat, "is not a cursor this API issued; use next_cursor as given"))
		} else {
			q.After = &c
		}
	}
	return q, errs.merge(nil)
}

// single returns a query parameter given at most once.
func single(v url.Values, name string) (string, bool, error) {
	vs, ok := v[name]
	switch {
	case !ok:
		return "", false, nil
	case len(vs) > 1:
		return "", false, order.Invalid(name, order.FieldBadFormat, "must be given at most once")
	}
	return vs[0], true, nil
}

func isDigits(s string) bool {
	return s != "" && allBytes(s, func(c byte) bool { return '0' <= c && c <= '9' })
}
