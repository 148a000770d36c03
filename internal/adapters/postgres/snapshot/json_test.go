package snapshot

import (
	"reflect"
	"strings"
	"testing"

	"github.com/google/uuid"
	"github.com/orderapi/orderapi/internal/adapters/postgres/codec"
	"github.com/orderapi/orderapi/internal/domain/order"
)

// TestSnapshotRoundTripsEveryCorpusState: the corpus sets every field of
// the state (TestSnapshotCorpusSetsEveryField), so a field the encoding
// forgets fails here.
func TestSnapshotRoundTripsEveryCorpusState(t *testing.T) {
	for _, want := range corpusOrders(t, codec.New(codec.Config{})) {
		data, err := Encode(want)
		if err != nil {
			t.Fatal(err)
		}
		got, err := Decode(want.ID, want.Version, data)
		if err != nil {
			t.Fatalf("decode %s: %v", data, err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("decoded\n%+v\nwant\n%+v\nfrom %s", got, want, data)
		}
	}
}

// TestSnapshotJSONMirrorsTheState names the fields, so that the message
// says which one a new field of the state lacks.
func TestSnapshotJSONMirrorsTheState(t *testing.T) {
	for _, pair := range [][2]reflect.Type{
		{reflect.TypeFor[order.Order](), reflect.TypeFor[snapshotJSON]()},
		{reflect.TypeFor[order.Item](), reflect.TypeFor[snapshotItemJSON]()},
		{reflect.TypeFor[order.Address](), reflect.TypeFor[snapshotAddressJSON]()},
	} {
		domain, stored := pair[0], pair[1]
		if domain.NumField() != stored.NumField() {
			t.Errorf("%s has %d fields, %s %d", domain, domain.NumField(), stored, stored.NumField())
		}
		for i := range domain.NumField() {
			name := domain.Field(i).Name
			if _, ok := stored.FieldByName(name); !ok {
				t.Errorf("%s has no field %s: the snapshot would lose it", stored, name)
			}
		}
	}
}

func TestDecodeSnapshotRefusesWhatItDidNotWrite(t *testing.T) {
	id := uuid.MustParse("0193a000-0000-7000-8000-00000000a001")
	valid := `"id":"` + id.String() + `","customer_id":"` + uuid.Nil.String() + `","status":"draft","version":3`
	for name, data := range map[string]string{
		"not an object":   `[]`,
		"empty object":    `{}`,
		"unknown field":   `{` + valid + `,"colour":"red"}`,
		"trailing data":   `{` + valid + `} {}`,
		"another order":   strings.Replace(`{`+valid+`}`, id.String(), uuid.NewString(), 1),
		"another version": strings.Replace(`{`+valid+`}`, `"version":3`, `"version":4`, 1),
		"no such status":  strings.Replace(`{`+valid+`}`, `"draft"`, `"lost"`, 1),
		"a bad amount":    `{` + valid + `,"items":[{"product_id":"` + id.String() + `","product_name":"x","quantity":1,"unit_price":"1,5"}]}`,
		"a bad time":      `{` + valid + `,"created_at":"yesterday"}`,
	} {
		t.Run(name, func(t *testing.T) {
			if o, err := Decode(id, 3, []byte(data)); err == nil {
				t.Fatalf("decoded %s as %+v", data, o)
			}
		})
	}
	if _, err := Decode(id, 3, []byte(`{`+valid+`}`)); err != nil {
		t.Fatalf("the valid sample: %v", err)
	}
}
