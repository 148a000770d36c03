package codec_test

import (
	"encoding/json"
	"errors"
	"reflect"
	"testing"

	"github.com/google/uuid"
	"github.com/orderapi/orderapi/internal/adapters/postgres/codec"
	"github.com/orderapi/orderapi/internal/domain/customer"
)

// The golden samples of testdata/golden-customer are customer events as
// stored, one per type and schema version, with the event each must
// decode to. Like the order histories, they are never regenerated.

type goldenCustomerEvent struct {
	Comment       string          `json:"comment"`
	Type          string          `json:"type"`
	SchemaVersion int             `json:"schema_version"`
	Data          json.RawMessage `json:"data"`
	Event         struct {
		CustomerID uuid.UUID   `json:"customer_id"`
		DataKeys   []uuid.UUID `json:"data_keys"`
	} `json:"event"`
}

func goldenCustomerEvents(t *testing.T) map[string]goldenCustomerEvent {
	return readGolden[goldenCustomerEvent](t, "golden-customer")
}

func TestGoldenCustomerEvents(t *testing.T) {
	t.Parallel()
	c := codec.New(codec.Config{})
	sampled := map[codec.Schema]bool{}
	for name, g := range goldenCustomerEvents(t) {
		sampled[codec.Schema{EventType: g.Type, Version: g.SchemaVersion}] = true
		// When a stored customer event is decoded
		e, err := c.DecodeCustomer(g.Type, g.SchemaVersion, g.Data)
		// Then it is the event recorded
		if want := (customer.PersonalDataErased{CustomerID: g.Event.CustomerID, DataKeys: g.Event.DataKeys}); err != nil || !reflect.DeepEqual(e, want) {
			t.Errorf("%s: %#v, %v; want %#v", name, e, err, want)
			continue
		}
		// And written in the current shape it reads back the same
		v, data, err := c.EncodeCustomer(e)
		if again, err2 := c.DecodeCustomer(e.EventType(), v, data); err != nil || err2 != nil || !reflect.DeepEqual(again, e) {
			t.Errorf("%s: v%d %s reads back as %#v, %v %v", name, v, data, again, err, err2)
		}
		// And no order is decoded from it
		if _, err := c.Decode(g.Type, g.SchemaVersion, g.Data); !errors.Is(err, codec.ErrNotOrderEvent) {
			t.Errorf("%s: Decode = %v, want ErrNotOrderEvent", name, err)
		}
	}
	// And every customer schema the codec reads has a sample
	for _, s := range c.Schemas() {
		if c.IsCustomerEvent(s.EventType) && !sampled[s] {
			t.Errorf("no golden sample of %s: add one to testdata/golden-customer", s)
		}
	}
}

func TestCustomerEventsAreReadStrictly(t *testing.T) {
	t.Parallel()
	c := codec.New(codec.Config{})
	for _, data := range []string{
		`{}`,
		`{"customer_id":"00000000-0000-0000-0000-000000000000"}`,
		`{"customer_id":"0193a000-0000-7000-8000-0000000000c1","shipping_address":{}}`,
		`{"customer_id":"not a uuid"}`,
	} {
		if e, err := c.DecodeCustomer(customer.TypePersonalDataErased, 1, []byte(data)); err == nil {
			t.Errorf("%s decoded as %#v", data, e)
		}
	}
	if _, err := c.DecodeCustomer(customer.TypePersonalDataErased, 2, []byte(`{"customer_id":"0193a000-0000-7000-8000-0000000000c1"}`)); err == nil {
		t.Error("an unknown schema version decoded")
	}
	if !c.Decodable(customer.TypePersonalDataErased, 1) || c.Decodable(customer.TypePersonalDataErased, 2) {
		t.Error("Decodable of the customer event's versions")
	}
}
