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

func TestMembersLeftOutTakeTheirCommaWithThem(t *testing.T) {
	drop := func(name string, v jsontext.Value) (jsontext.Value, error) {
		if name == "b" {
			return jsontext.Value(`"B"`), nil
		}
		return nil, nil
	}
	for _, c := range []struct{ data, want string }{
		{`{"x":1,"a":2}`, `{"a":2}`},
		{`{"a":2,"x":1}`, `{"a":2}`},
		{`{"a":2,"x":1,"c":3}`, `{"a":2,"c":3}`},
		{`{"x":1,"y":2}`, `{}`},
		{`{"x":1,"y":2,"a":3}`, `{"a":3}`},
		{`{"x":1,"b":2,"y":3}`, `{"b":"B"}`},
		{`{"a":0,"x":1,"b":2,"y":3,"c":4}`, `{"a":0,"b":"B","c":4}`},
		// PostgreSQL's text of jsonb
		{`{"x": 1, "a": 2, "y": [3], "c": {"d": "}"}}`, `{ "a": 2, "c": {"d": "}"}}`},
		{` { "x" : 1 , "b" : 2 } `, `{ "b" : "B" }`},
	} {
		// When the members x and y are left out and b replaced
		got, err := ReplaceMembers([]byte(c.data), []string{"x", "y", "b"}, drop)

		// Then the object is still one, with the others as they were
		if err != nil || string(got) != c.want {
			t.Errorf("ReplaceMembers(%s) = %s, %v; want %s", c.data, got, err, c.want)
		}
		if !jsontext.Value(got).IsValid() {
			t.Errorf("ReplaceMembers(%s) = %s: not valid JSON", c.data, got)
		}
	}
}
