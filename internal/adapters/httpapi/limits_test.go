package httpapi

import (
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/orderapi/orderapi/internal/adapters/httpapi/jsonbody"
	"github.com/orderapi/orderapi/internal/app"
	"github.com/orderapi/orderapi/internal/domain/order"
)

// TestSpecStatesTheCodesLimits keeps the limits api/openapi.yaml states
// (maxLength, maximum, maxItems, patterns) equal to those the code
// enforces, so that neither can change alone.
func TestSpecStatesTheCodesLimits(t *testing.T) {
	t.Parallel()
	doc, err := loadSpec()
	if err != nil {
		t.Fatal(err)
	}
	prop := func(schema, name string) *openapi3.Schema {
		s := doc.Components.Schemas[schema]
		if s == nil || s.Value.Properties[name] == nil {
			t.Fatalf("spec has no %s.%s", schema, name)
		}
		return s.Value.Properties[name].Value
	}
	query := func(path, name string) *openapi3.Schema {
		item := doc.Paths.Find(path)
		if item == nil || item.Get == nil {
			t.Fatalf("spec has no GET %s", path)
		}
		// A parameter of the path's (shared with HEAD) or of GET's own.
		p := item.Parameters.GetByInAndName("query", name)
		if p == nil {
			p = item.Get.Parameters.GetByInAndName("query", name)
		}
		if p == nil {
			t.Fatalf("spec has no %s?%s", path, name)
		}
		return p.Schema.Value
	}
	maxLen := func(s *openapi3.Schema) int {
		if s.MaxLength == nil {
			return -1
		}
		return int(*s.MaxLength)
	}
	maximum := func(s *openapi3.Schema) int {
		if s.Max == nil {
			return -1
		}
		return int(*s.Max)
	}
	tests := []struct {
		what       string
		spec, code int
	}{
		{"AddItemRequest.product_name maxLength", maxLen(prop("AddItemRequest", "product_name")), order.MaxNameLen},
		{"AddItemRequest.quantity maximum", maximum(prop("AddItemRequest", "quantity")), order.MaxQuantity},
		{"OrderItem.quantity maximum", maximum(prop("OrderItem", "quantity")), order.MaxQuantity},
		{"Order.items maxItems", int(*prop("Order", "items").MaxItems), order.MaxItemsPerOrder},
		{"AddressRequest.name maxLength", maxLen(prop("AddressRequest", "name")), order.MaxAddressLen},
		{"AddressRequest.line1 maxLength", maxLen(prop("AddressRequest", "line1")), order.MaxAddressLen},
		{"AddressRequest.line2 maxLength", maxLen(prop("AddressRequest", "line2")), order.MaxAddressLen},
		{"AddressRequest.city maxLength", maxLen(prop("AddressRequest", "city")), order.MaxAddressLen},
		{"AddressRequest.region maxLength", maxLen(prop("AddressRequest", "region")), order.MaxAddressLen},
		{"AddressRequest.postal_code maxLength", maxLen(prop("AddressRequest", "postal_code")), order.MaxPostalCodeLen},
		{"ShipOrderRequest.tracking_number maxLength", maxLen(prop("ShipOrderRequest", "tracking_number")), order.MaxTrackingLen},
		{"ShipOrderRequest.carrier maxLength", maxLen(prop("ShipOrderRequest", "carrier")), order.MaxCarrierLen},
		{"DeliverOrderRequest.signature maxLength", maxLen(prop("DeliverOrderRequest", "signature")), order.MaxSignatureLen},
		{"CancelOrderRequest.reason maxLength", maxLen(prop("CancelOrderRequest", "reason")), order.MaxReasonLen},
		{"CancelOrderRequest.cancelled_by maxLength", maxLen(prop("CancelOrderRequest", "cancelled_by")), order.MaxActorLen},
		{"customer orders ?limit maximum", maximum(query("/v1/customers/{customer_id}/orders", "limit")), app.MaxPageSize},
		{"order events ?limit maximum", maximum(query("/v1/orders/{order_id}/events", "limit")), app.MaxEventPage},
		{"order events ?after_version maximum", maximum(query("/v1/orders/{order_id}/events", "after_version")), maxVersion},
		{"order ?version maximum", maximum(query("/v1/orders/{order_id}", "version")), maxVersion},
		{"feed ?limit maximum", maximum(query("/v1/events", "limit")), app.MaxFeedPage},
	}
	for _, tt := range tests {
		if tt.spec != tt.code {
			t.Errorf("%s: the spec says %d, the code %d", tt.what, tt.spec, tt.code)
		}
	}
	if p := doc.Components.Schemas["Amount"].Value.Pattern; p != order.AmountPattern {
		t.Errorf("Amount pattern: the spec says %s, the code %s", p, order.AmountPattern)
	}
	if _, ok := doc.Components.Parameters["XActor"]; ok {
		t.Error("the spec still documents X-Actor, which the server no longer reads")
	}
	for _, text := range []string{doc.Info.Description, *doc.Components.Responses["RequestTooLarge"].Value.Description} {
		if jsonbody.MaxBytes != 1<<20 || !strings.Contains(text, "1 MiB") {
			t.Errorf("the spec does not state the body limit of %d bytes as 1 MiB: %.80q…", jsonbody.MaxBytes, text)
		}
	}
	if !strings.Contains(doc.Info.Description, fmt.Sprintf("deeper than %d", jsonbody.MaxDepth)) {
		t.Errorf("the spec's description does not state the nesting limit of %d", jsonbody.MaxDepth)
	}
	readme, err := os.ReadFile("../../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	for what, text := range map[string]string{
		"the spec's limits": doc.Info.Description,
		"add item":          doc.Paths.Find("/v1/orders/{order_id}/items").Post.Description,
		"README":            string(readme),
	} {
		for _, n := range []int{order.MaxEvents, order.MaxEvents - order.ReservedEvents} {
			if !strings.Contains(text, grouped(n)+" events") {
				t.Errorf("%s does not state the history's limit of %s events", what, grouped(n))
			}
		}
	}
}

// grouped writes n with a comma between groups of three digits, as the
// documents do.
func grouped(n int) string {
	s := fmt.Sprint(n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}
