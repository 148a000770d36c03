package httpapi

import (
	"errors"
	"time"

	"github.com/orderapi/orderapi/internal/adapters/timetext"
	"github.com/orderapi/orderapi/internal/app"
	"github.com/orderapi/orderapi/internal/domain/order"
)

// Request bodies. Fields whose absence the domain cannot tell from a zero
// value (ids, quantity, price) are pointers, so that a missing one is named
// as required; free text stays a plain string, since the domain already
// calls "" required where it is.

// createOrderRequest is the body of POST /v1/orders.
type createOrderRequest struct {
	ID         *string `json:"id"`
	CustomerID *string `json:"customer_id"`
	Currency   *string `json:"currency"`
}

// newOrder converts the body into the app's input for the caller p. No id
// lets the service choose one, and no currency takes the configured
// default. No customer_id is p's own when p is a customer (the app fills
// it in), and required of anyone else: the body's own fields are judged
// first, and customer_id is asked of such a caller only once they pass.
func (req createOrderRequest) newOrder(p app.Principal) (app.NewOrder, error) {
	in, err := req.fields()
	if err != nil {
		return in, err
	}
	if req.CustomerID == nil && !p.Roles.Has(app.RoleCustomer) {
		return in, order.Invalid("customer_id", order.FieldRequired, "is required unless a customer creates its own order")
	}
	return in, nil
}

// fields parses the fields the body gives, listing every problem.
func (req createOrderRequest) fields() (app.NewOrder, error) {
	var (
		in   app.NewOrder
		errs fieldErrs
		err  error
	)
	if req.ID != nil {
		in.ID, err = parseID("id", *req.ID)
		if err == nil && !order.IsOrderID(in.ID) {
			err = order.Invalid("id", order.FieldBadFormat, order.ReservedIDMessage)
		}
		errs.add(err)
	}
	if req.CustomerID != nil {
		in.CustomerID, err = parseID("customer_id", *req.CustomerID)
		errs.add(err)
	}
	if req.Currency != nil {
		in.Currency, err = order.ParseCurrency(*req.Currency)
		errs.add(err)
	}
	// order.Create checks nothing the edge has not: the ids and the
	// currency are parsed above, and its nil-id check is made by parseID.
	return in, errs.merge(nil)
}

// addItemRequest is the body of POST /v1/orders/{order_id}/items.
type addItemRequest struct {
	ProductID   *string `json:"product_id"`
	ProductName string  `json:"product_name"`
	Quantity    *int64  `json:"quantity"`
	UnitPrice   *string `json:"unit_price"`
}

// newItem converts the body into the domain's input, listing every field
// problem: parsing first, then the domain's own rules on what parsed.
func (req addItemRequest) newItem() (order.NewItem, error) {
	var (
		it   = order.NewItem{ProductName: req.ProductName}
		errs fieldErrs
		err  error
	)
	it.ProductID, err = requiredID("product_id", req.ProductID)
	errs.add(err)
	if req.Quantity == nil {
		errs.add(order.Invalid("quantity", order.FieldRequired, "is required"))
	} else {
		it.Quantity = *req.Quantity
	}
	if req.UnitPrice == nil {
		errs.add(order.Invalid("unit_price", order.FieldRequired, "is required"))
	} else {
		it.UnitPrice, err = order.ParseAmount("unit_price", *req.UnitPrice)
		errs.add(err)
	}
	return it, errs.merge(it.Validate())
}

// addressJSON is a shipping address, in requests and responses alike.
type addressJSON struct {
	Name       string  `json:"name"`
	Line1      string  `json:"line1"`
	Line2      *string `json:"line2"`
	City       string  `json:"city"`
	Region     *string `json:"region"`
	PostalCode string  `json:"postal_code"`
	Country    string  `json:"country"`
}

// placeOrderRequest is the body of POST /v1/orders/{order_id}/place. The
// domain's address check names each field; it runs here too so that a bad
// body is a 422 even for an order that does not exist.
type placeOrderRequest struct {
	ShippingAddress *addressJSON `json:"shipping_address"`
}

// shippingAddress converts the body into the domain's address.
func (req placeOrderRequest) shippingAddress() (order.Address, error) {
	if req.ShippingAddress == nil {
		return order.Address{}, order.Invalid("shipping_address", order.FieldRequired, "is required")
	}
	a := req.ShippingAddress.address()
	return a, a.Validate()
}

func (a addressJSON) address() order.Address {
	return order.Address{
		Name:       a.Name,
		Line1:      a.Line1,
		Line2:      deref(a.Line2),
		City:       a.City,
		Region:     deref(a.Region),
		PostalCode: a.PostalCode,
		Country:    a.Country,
	}
}

// shipOrderRequest is the body of POST /v1/orders/{order_id}/ship.
type shipOrderRequest struct {
	TrackingNumber string `json:"tracking_number"`
	Carrier        string `json:"carrier"`
}

// checked returns the body once the domain's shipment rules pass.
func (req shipOrderRequest) checked() (shipOrderRequest, error) {
	return req, order.ValidateShipment(req.TrackingNumber, req.Carrier)
}

// deliverOrderRequest is the body of POST /v1/orders/{order_id}/deliver,
// which may be empty: no delivered_at means now.
type deliverOrderRequest struct {
	DeliveredAt *string `json:"delivered_at"`
	Signature   *string `json:"signature"`
}

// delivery is the app's input for a delivery.
type delivery struct {
	at        time.Time // zero: now
	signature string
}

// delivery converts the body, listing every field problem.
func (req deliverOrderRequest) delivery() (delivery, error) {
	at, err := req.deliveredAt()
	sig := deref(req.Signature)
	return delivery{at: at, signature: sig}, order.Merge(err, order.ValidateSignature(sig))
}

// deliveredAt parses delivered_at; zero when absent.
func (req deliverOrderRequest) deliveredAt() (time.Time, error) {
	if req.DeliveredAt == nil {
		return time.Time{}, nil
	}
	t, err := timetext.ParseRFC3339(*req.DeliveredAt)
	if err != nil {
		return time.Time{}, order.Invalid("delivered_at", order.FieldBadFormat,
			`must be an RFC 3339 date-time, e.g. "2025-01-02T15:04:05Z"`)
	}
	// The bounds are checked here too, so that a 422 names them even for
	// an order that does not exist; the domain checks the rest.
	if err := order.CheckTime("delivered_at", t); err != nil {
		return time.Time{}, err
	}
	return t, nil
}

// cancelOrderRequest is the body of POST /v1/orders/{order_id}/cancel.
// Who cancels is the caller: cancelled_by may be left out (or "") and, if
// given, must be the caller's own id, which the app checks.
type cancelOrderRequest struct {
	Reason      string `json:"reason"`
	CancelledBy string `json:"cancelled_by"`
}

// checked returns the body once the domain's cancellation rules pass.
func (req cancelOrderRequest) checked() (cancelOrderRequest, error) {
	err := order.ValidateCancellation(req.Reason, req.CancelledBy)
	if req.CancelledBy != "" {
		return req, err
	}
	// Left out, cancelled_by is the caller's id, which the app fills in:
	// only the reason is the client's to get right.
	var rest []error
	if e, ok := errors.AsType[*order.Error](err); ok {
		for _, f := range e.Fields {
			if f.Field != "cancelled_by" {
				rest = append(rest, order.Invalid(f.Field, f.Code, f.Message))
			}
		}
	}
	return req, order.Merge(rest...)
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
