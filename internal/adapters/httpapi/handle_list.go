package httpapi

import (
	"net/http"
	"net/url"

	"github.com/google/uuid"
	"github.com/orderapi/orderapi/internal/adapters/cursor"
	"github.com/orderapi/orderapi/internal/adapters/httpapi/access"
	"github.com/orderapi/orderapi/internal/adapters/httpapi/problem"
	"github.com/orderapi/orderapi/internal/app"
	"github.com/orderapi/orderapi/internal/domain/order"
)

// handleCustomerOrders pages a customer's orders, newest first. An unknown
// customer simply has no orders.
//
// The list is asked for before an unsigned cursor is judged, so that
// whoever may not list the customer's orders is refused before the
// cursor's answer could tell them whether the order it names exists.
func handleCustomerOrders(svc *app.Service, cursors *cursor.Signer) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		customerID, err := pathID(r, "customer_id")
		if err != nil {
			problem.Write(w, r, err)
			return
		}
		q, unsigned, err := listQuery(r.URL.Query(), customerID, cursors)
		if err != nil {
			problem.Write(w, r, err)
			return
		}
		page, err := svc.ListCustomerOrders(r.Context(), access.Principal(r.Context()), q)
		if err == nil && unsigned {
			err = trustUnsigned("cursor")(svc.OrderCursorExists(r.Context(), customerID, *q.After))
		}
		if err != nil {
			problem.Write(w, r, err)
			return
		}
		setReadSource(w.Header(), page.Source)
		writeJSON(w, r, http.StatusOK, toOrderPageJSON(page, q, cursors))
	})
}

// listQuery parses status, limit, min_position and cursor of the
// customer's list, naming every bad one; unsigned reports a cursor of the
// unsigned format 1 (see decodeCursor). Query values are text whatever their meaning, so a
// bad one is a 422 field problem like a bad body field, not a 400.
func listQuery(v url.Values, customerID uuid.UUID, cursors *cursor.Signer) (q app.ListQuery, unsigned bool, err error) {
	var errs fieldErrs
	q.CustomerID = customerID
	if s, ok, err := single(v, "status"); err != nil {
		errs.add(err)
	} else if ok {
		q.Status, err = order.ParseStatus(s)
		errs.add(err)
	}
	limit, _, err := intParam(v, "limit", 1, app.MaxPageSize, app.DefaultPageSize)
	errs.add(err)
	q.Limit = limit
	q.MinPosition, err = minPosition(v)
	errs.add(err)
	if s, ok, err := single(v, "cursor"); err != nil {
		errs.add(err)
	} else if ok {
		c, legacy, valid := decodeCursor(cursors, q, s)
		if !valid {
			errs.add(notIssued("cursor"))
		} else {
			q.After, unsigned = &c, legacy
		}
	}
	return q, unsigned, errs.merge(nil)
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
