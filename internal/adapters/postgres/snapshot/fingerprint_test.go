package snapshot

import (
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/orderapi/orderapi/internal/adapters/postgres/codec"
	"github.com/orderapi/orderapi/internal/domain/order"
)

// corpusOrders folds the snapshot corpus as the fingerprint does and
// returns every state it passes through.
func corpusOrders(t *testing.T, c *codec.Codec) []order.Order {
	t.Helper()
	var states []order.Order
	for _, stream := range snapshotCorpus() {
		var o order.Order
		for _, ce := range stream {
			e, err := ce.decode(c)
			if err != nil {
				t.Fatalf("corpus event %+v: %v", ce, err)
			}
			o.Apply(e, ce.at)
			states = append(states, o)
		}
	}
	return states
}

func TestSnapshotFingerprintIsStable(t *testing.T) {
	// Given two codecs configured alike
	a, errA := Fingerprint(codec.New(codec.Config{}))
	b, errB := Fingerprint(codec.New(codec.Config{DefaultCurrency: "USD"}))

	// Then their fingerprints are equal, and a SHA-256 in hex
	if errA != nil || errB != nil {
		t.Fatalf("Fingerprint: %v, %v", errA, errB)
	}
	if a != b || len(a) != 64 {
		t.Fatalf("fingerprints %q and %q, want one 64-digit hex", a, b)
	}
}

func TestSnapshotFingerprintFollowsTheDefaultCurrency(t *testing.T) {
	// Given codecs that replay currency-less OrderCreated v1 differently
	usd, _ := Fingerprint(codec.New(codec.Config{}))
	chf, err := Fingerprint(codec.New(codec.Config{DefaultCurrency: "CHF"}))

	// Then snapshots of one must not be trusted by the other
	if err != nil || usd == chf {
		t.Fatalf("fingerprints %q and %q (%v), want them to differ", usd, chf, err)
	}
}

// TestSnapshotFingerprintFollowsTheFold stands for a change to Apply: a
// fold that differs from today's in any one way the corpus shows gives
// another fingerprint.
func TestSnapshotFingerprintFollowsTheFold(t *testing.T) {
	shape := describeType(reflect.TypeFor[snapshotJSON]())
	today, err := corpusStates(codec.New(codec.Config{}), (*order.Order).Apply)
	if err != nil {
		t.Fatal(err)
	}
	want := fingerprintOf(shape, today, snapshotRevision)
	for name, changed := range map[string]func(*order.Order, order.Event, time.Time){
		"signature forgotten": func(o *order.Order, e order.Event, at time.Time) {
			o.Apply(e, at)
			o.Signature = ""
		},
		"delivery time taken from the event's occurrence": func(o *order.Order, e order.Event, at time.Time) {
			o.Apply(e, at)
			if _, ok := e.(order.Delivered); ok {
				o.DeliveredAt = at
			}
		},
		"empty lines kept as an empty slice": func(o *order.Order, e order.Event, at time.Time) {
			o.Apply(e, at)
			if _, ok := e.(order.ItemRemoved); ok && o.Items == nil {
				o.Items = []order.Item{}
			}
		},
		"a removal takes the last matching line": func(o *order.Order, e order.Event, at time.Time) {
			r, ok := e.(order.ItemRemoved)
			if !ok {
				o.Apply(e, at)
				return
			}
			o.Version++
			o.UpdatedAt = at
			for i := len(o.Items) - 1; i >= 0; i-- {
				if o.Items[i].ProductID == r.ProductID {
					o.Items = slices.Delete(slices.Clone(o.Items), i, i+1)
					break
				}
			}
		},
	} {
		t.Run(name, func(t *testing.T) {
			// Given the corpus folded by a changed Apply
			states, err := corpusStates(codec.New(codec.Config{}), changed)
			if err != nil {
				t.Fatal(err)
			}
			// Then the fingerprint changes
			if got := fingerprintOf(shape, states, snapshotRevision); got == want {
				t.Fatal("the fingerprint did not change")
			}
		})
	}
}

func TestSnapshotFingerprintOfItsParts(t *testing.T) {
	states := [][]byte{[]byte(`{"a":1}`), []byte(`{"b":2}`)}
	base := fingerprintOf("shape", states, 1)
	if again := fingerprintOf("shape", [][]byte{[]byte(`{"a":1}`), []byte(`{"b":2}`)}, 1); again != base {
		t.Fatalf("same parts, fingerprints %s and %s", base, again)
	}
	for name, got := range map[string]string{
		"revision raised":       fingerprintOf("shape", states, 2),
		"shape changed":         fingerprintOf("shape2", states, 1),
		"a state changed":       fingerprintOf("shape", [][]byte{[]byte(`{"a":2}`), []byte(`{"b":2}`)}, 1),
		"a state more":          fingerprintOf("shape", append(slices.Clone(states), []byte(`{}`)), 1),
		"states split anew":     fingerprintOf("shape", [][]byte{[]byte(`{"a":1}{"b"`), []byte(`:2}`)}, 1),
		"shape and state moved": fingerprintOf(`shape{"a":1}`, states[1:], 1),
	} {
		if got == base {
			t.Errorf("%s: the fingerprint did not change", name)
		}
	}
}

func TestSnapshotShapeNamesEveryField(t *testing.T) {
	shape := describeType(reflect.TypeFor[snapshotJSON]())
	type renamed struct {
		snapshotJSON
		Extra string `json:"extra"`
	}
	if other := describeType(reflect.TypeFor[renamed]()); other == shape {
		t.Fatal("a struct with one more field has the same shape")
	}
	for _, want := range []string{`ShippingAddress "json:\"shipping_address,omitempty\"" *`, `UnitPrice "json:\"unit_price\"" string`, "github.com/google/uuid.UUID"} {
		if !strings.Contains(shape, want) {
			t.Errorf("shape lacks %s:\n%s", want, shape)
		}
	}
}

func TestSnapshotCorpusTakesEveryEventTypeAndSchema(t *testing.T) {
	c := codec.New(codec.Config{})
	seen := map[codec.Schema]bool{}
	statuses := map[order.Status]bool{}
	for _, stream := range snapshotCorpus() {
		for _, ce := range stream {
			s := ce.schema
			if ce.event != nil {
				v, _, err := c.Encode(ce.event)
				if err != nil {
					t.Fatal(err)
				}
				s = codec.Schema{EventType: ce.event.EventType(), Version: v}
			}
			seen[s] = true
		}
	}
	for _, s := range c.Schemas() {
		// A customer's events are never folded into an order.
		if !seen[s] && !c.IsCustomerEvent(s.EventType) {
			t.Errorf("the snapshot corpus has no %s event: add one", s)
		}
	}
	for _, o := range corpusOrders(t, c) {
		statuses[o.Status] = true
	}
	for _, st := range order.Statuses {
		if !statuses[st] {
			t.Errorf("no corpus state is %s", st)
		}
	}
}

// TestSnapshotCorpusSetsEveryField: a field no corpus state sets is a
// field the fingerprint cannot watch.
func TestSnapshotCorpusSetsEveryField(t *testing.T) {
	states := corpusOrders(t, codec.New(codec.Config{}))
	set := func(typ reflect.Type, values []reflect.Value) {
		for i := range typ.NumField() {
			if !slices.ContainsFunc(values, func(v reflect.Value) bool { return !v.Field(i).IsZero() }) {
				t.Errorf("no corpus state sets %s.%s: add an event that does", typ.Name(), typ.Field(i).Name)
			}
		}
	}
	var orders, items, addresses []reflect.Value
	for _, o := range states {
		orders = append(orders, reflect.ValueOf(o))
		for _, it := range o.Items {
			items = append(items, reflect.ValueOf(it))
		}
		if o.ShippingAddress != nil {
			addresses = append(addresses, reflect.ValueOf(*o.ShippingAddress))
		}
	}
	set(reflect.TypeFor[order.Order](), orders)
	set(reflect.TypeFor[order.Item](), items)
	set(reflect.TypeFor[order.Address](), addresses)
}

// TestFingerprintIsPinned: the fingerprint decides whether every stored
// snapshot is still trusted, so it changes only on purpose. A change to
// the encoding or the fold fails this test: raise the pinned value with
// it, knowing that the deploy discards every snapshot once. Moving or
// renaming packages must not change it.
func TestFingerprintIsPinned(t *testing.T) {
	// Given the default codec
	c := codec.New(codec.Config{})
	// When this build's fingerprint is computed
	got, err := Fingerprint(c)
	// Then it is the one the snapshots in stores were written under
	const pinned = "f0e0f8867a55475111700a42d50ad2c7a3f69d121d3923a8c8f92f3fa1e948aa"
	if err != nil || got != pinned {
		t.Fatalf("Fingerprint = %q, %v; pinned %q", got, err, pinned)
	}
}
