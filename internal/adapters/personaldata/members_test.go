package personaldata

import (
	"testing"

	"github.com/go-json-experiment/json/jsontext"
)

func TestMembersAreReadAndReplacedInTheirPlace(t *testing.T) {
	// Given an object with two of three personal members, one null
	obj := []byte(`{"order_id":"o1","shipping_address":{"name":"Ada"},"reason":null,"total_amount":"9.00"}`)
	fields := []string{"shipping_address", "reason", "signature"}

	// When its members are read
	got, err := Members(obj, fields)
	// Then those it has are found, as they are
	if err != nil || len(got) != 2 || string(got["shipping_address"]) != `{"name":"Ada"}` || string(got["reason"]) != `null` {
		t.Fatalf("Members = %q, %v", got, err)
	}

	// When one is replaced and the other left out
	out, err := ReplaceMembers(obj, fields, func(name string, v jsontext.Value) (jsontext.Value, error) {
		if name == "reason" {
			return nil, nil
		}
		return jsontext.Value(`"sealed"`), nil
	})
	// Then the one keeps its place, the other is gone, and no member is added
	if want := `{"order_id":"o1","shipping_address":"sealed","total_amount":"9.00"}`; err != nil || string(out) != want {
		t.Errorf("ReplaceMembers = %s, %v; want %s", out, err, want)
	}
}
