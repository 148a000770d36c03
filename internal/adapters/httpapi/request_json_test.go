package httpapi

import (
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/orderapi/orderapi/internal/app"
	"github.com/orderapi/orderapi/internal/domain/order"
)

// fields lists the fields a validation error names, for comparison.
func fields(err error) []string {
	e, ok := err.(*order.Error)
	if !ok {
		return nil
	}
	var names []string
	for _, f := range e.Fields {
		names = append(names, f.Field+":"+f.Code)
	}
	return names
}

func TestAddItemRequestNewItem(t *testing.T) {
	t.Parallel()
	product := uuid.New()
	pid := product.String()
	tests := []struct {
		name string
		req  addItemRequest
		want order.NewItem
		errs []string
	}{
		{"valid", addItemRequest{ProductID: &pid, ProductName: "Beans", Quantity: ptr[int64](3), UnitPrice: ptr("19.99")},
			order.NewItem{ProductID: product, ProductName: "Beans", Quantity: 3, UnitPrice: order.MustParseAmount("19.99")}, nil},
		{"missing everything", addItemRequest{},
			order.NewItem{}, []string{"product_id:required", "quantity:required", "unit_price:required", "product_name:required"}},
		{"bad formats", addItemRequest{ProductID: ptr("x"), ProductName: "B", Quantity: ptr[int64](1), UnitPrice: ptr("1e3")},
			order.NewItem{}, []string{"product_id:invalid_format", "unit_price:invalid_format"}},
		{"non-canonical uuid", addItemRequest{ProductID: ptr("{" + pid + "}"), ProductName: "B", Quantity: ptr[int64](1), UnitPrice: ptr("1")},
			order.NewItem{}, []string{"product_id:invalid_format"}},
		{"nil uuid", addItemRequest{ProductID: ptr(uuid.Nil.String()), ProductName: "B", Quantity: ptr[int64](1), UnitPrice: ptr("1")},
			order.NewItem{}, []string{"product_id:required"}},
		{"domain ranges", addItemRequest{ProductID: &pid, ProductName: "B", Quantity: ptr[int64](0), UnitPrice: ptr("1.00001")},
			order.NewItem{}, []string{"unit_price:invalid_format", "quantity:out_of_range"}},
		{"line too big", addItemRequest{ProductID: &pid, ProductName: "B", Quantity: ptr[int64](1000000), UnitPrice: ptr("9999999999999")},
			order.NewItem{}, []string{"unit_price:out_of_range"}},
		{"negative price", addItemRequest{ProductID: &pid, ProductName: "B", Quantity: ptr[int64](1), UnitPrice: ptr("-1")},
			order.NewItem{}, []string{"unit_price:invalid_format"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.req.newItem()
			if !sameSet(fields(err), tt.errs) {
				t.Fatalf("errors = %v, want %v", fields(err), tt.errs)
			}
			if err == nil && (got.ProductID != tt.want.ProductID || got.ProductName != tt.want.ProductName ||
				got.Quantity != tt.want.Quantity || !got.UnitPrice.Equal(tt.want.UnitPrice)) {
				t.Errorf("newItem = %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestCreateOrderRequestNewOrder(t *testing.T) {
	t.Parallel()
	id, customer := uuid.New(), uuid.New()
	tests := []struct {
		name string
		req  createOrderRequest
		want app.NewOrder
		errs []string
		// by is the caller: staff unless a customer is named.
		by app.Principal
	}{
		{"minimal", createOrderRequest{CustomerID: ptr(customer.String())}, app.NewOrder{CustomerID: customer}, nil, staffPrincipal},
		{"everything", createOrderRequest{ID: ptr(id.String()), CustomerID: ptr(customer.String()), Currency: ptr("EUR")},
			app.NewOrder{ID: id, CustomerID: customer, Currency: "EUR"}, nil, staffPrincipal},
		{"missing customer", createOrderRequest{}, app.NewOrder{}, []string{"customer_id:required"}, staffPrincipal},
		{"missing customer, of a service", createOrderRequest{}, app.NewOrder{}, []string{"customer_id:required"}, servicePrincipal},
		{"missing customer, a customer's own", createOrderRequest{}, app.NewOrder{}, nil, customerPrincipal(customer)},
		{"all bad", createOrderRequest{ID: ptr(uuid.Nil.String()), CustomerID: ptr("42"), Currency: ptr("eur")},
			app.NewOrder{}, []string{"id:required", "customer_id:invalid_format", "currency:invalid_currency"}, staffPrincipal},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.req.newOrder(tt.by)
			if !sameSet(fields(err), tt.errs) {
				t.Fatalf("errors = %v, want %v", fields(err), tt.errs)
			}
			if err == nil && got != tt.want {
				t.Errorf("newOrder = %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestAddressConversion(t *testing.T) {
	t.Parallel()
	full := addressJSON{Name: "N", Line1: "L1", Line2: ptr("L2"), City: "C", Region: ptr("R"), PostalCode: "P", Country: "GB"}
	want := order.Address{Name: "N", Line1: "L1", Line2: "L2", City: "C", Region: "R", PostalCode: "P", Country: "GB"}
	if got := full.address(); got != want {
		t.Errorf("address() = %+v, want %+v", got, want)
	}
	if got := (addressJSON{Name: "N"}).address(); got.Line2 != "" || got.Region != "" {
		t.Errorf("absent lines = %+v", got)
	}
	if _, err := (placeOrderRequest{}).shippingAddress(); !sameSet(fields(err), []string{"shipping_address:required"}) {
		t.Errorf("no address: %v", err)
	}
}

func TestDeliverOrderRequestDeliveredAt(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   *string
		want time.Time
		errs []string
	}{
		{nil, time.Time{}, nil},
		{ptr("2025-01-02T03:04:05Z"), time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC), nil},
		{ptr("2025-01-02T04:04:05.5+01:00"), time.Date(2025, 1, 2, 3, 4, 5, 500_000_000, time.UTC), nil},
		{ptr("2025-01-02"), time.Time{}, []string{"delivered_at:invalid_format"}},
		{ptr("yesterday"), time.Time{}, []string{"delivered_at:invalid_format"}},
		// Year 10000 in UTC: RFC 3339 text that no store could read back.
		{ptr("9999-12-31T23:59:59-23:59"), time.Time{}, []string{"delivered_at:out_of_range"}},
		{ptr("0000-01-01T00:00:00+23:59"), time.Time{}, []string{"delivered_at:out_of_range"}},
		{ptr("1969-12-31T23:59:59Z"), time.Time{}, []string{"delivered_at:out_of_range"}},
		{ptr("1970-01-01T00:00:00Z"), time.Date(1970, 1, 1, 0, 0, 0, 0, time.UTC), nil},
		// Offsets Go reads but RFC 3339 does not have.
		{ptr("2025-01-02T03:04:05+24:00"), time.Time{}, []string{"delivered_at:invalid_format"}},
		{ptr("2025-01-02T03:04:05-01:60"), time.Time{}, []string{"delivered_at:invalid_format"}},
	}
	for _, tt := range tests {
		got, err := deliverOrderRequest{DeliveredAt: tt.in}.deliveredAt()
		if !sameSet(fields(err), tt.errs) || !got.Equal(tt.want) {
			t.Errorf("deliveredAt(%v) = %v, %v; want %v, %v", tt.in, got, fields(err), tt.want, tt.errs)
		}
	}
}
