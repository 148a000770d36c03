package httpapi

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"os"
	"reflect"
	"strconv"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/orderapi/orderapi/internal/adapters/postgres/analytics"
	"github.com/orderapi/orderapi/internal/adapters/postgres/eventstore"
	"github.com/orderapi/orderapi/internal/adapters/postgres/projections"
	"github.com/orderapi/orderapi/internal/app"
	"github.com/rs/zerolog"
	"github.com/shopspring/decimal"
)

// TestWhatTheAPIAcceptsReadsBackIdentically sends whole order lives built
// from hostile values (readback_gen_test.go) and holds the service to its
// promise: a request is refused with a 4xx and writes nothing, or it is
// accepted, and then the answer shows exactly what was sent, and every
// later read shows exactly the answer — the order, each of its versions,
// its history and the global feed, the customer's list, an idempotent
// replay, a snapshot, and the read models as `projections verify` checks
// them against the events. An event the store cannot read back would fail
// here before it poisons a history.
//
// ORDERAPI_READBACK_SEED replays a failing run; its seed is logged.
func TestWhatTheAPIAcceptsReadsBackIdentically(t *testing.T) {
	t.Parallel()
	seed := uint64(time.Now().UnixNano())
	if s := os.Getenv("ORDERAPI_READBACK_SEED"); s != "" {
		seed, _ = strconv.ParseUint(s, 10, 64)
	}
	t.Logf("seed %d (ORDERAPI_READBACK_SEED)", seed)
	rng := rand.New(rand.NewPCG(seed, 0x0dd))
	a := newAPI(t, manyRequests)

	var lives []*life
	for range 30 {
		lives = append(lives, runLife(t, a, rng))
	}

	store := eventstore.New(a.pool, eventstore.Config{Keyring: a.keyring})
	for _, l := range lives {
		l.checkVersions(t, a)
		l.checkHistory(t, a)
		l.checkList(t, a)
		l.checkReplays(t, a)
	}
	checkFeed(t, a, lives)
	checkProjections(t, store)
	checkSnapshots(t, a, lives)
}

// life is one order's accepted commands and what each must read back as.
type life struct {
	id, customer string
	// answers[v-1] is the answer of the command that made version v.
	answers []orderJSON
	// events[v-1] checks the data of the event at version v.
	events []eventCheck
	// replays are requests sent with an Idempotency-Key.
	replays []keyed
}

type eventCheck struct {
	typ   string
	check func(data map[string]any) error
}

type keyed struct {
	// api is the client the request was sent with: keys are the caller's.
	api                     *testAPI
	method, path, body, key string
	status                  int
	answer                  orderJSON
}

// send posts body (nil: none) and, when accepted, checks the answer with
// check and records it; when refused, it checks that the refusal is a 4xx
// and that nothing was written. It reports whether it was accepted.
func (l *life) send(t *testing.T, a *testAPI, rng *rand.Rand, method, path string, body *string, ev eventCheck, check func(orderJSON) error) bool {
	t.Helper()
	var headers []string
	key := ""
	if rng.IntN(3) == 0 {
		key = uuid.NewString()
		headers = append(headers, "Idempotency-Key", key)
	}
	var r reply
	if body == nil {
		r = a.do(method, path, nil, headers...)
	} else {
		r = a.do(method, path, *body, headers...)
	}
	what := fmt.Sprintf("%s %s %v", method, path, body)
	if r.Status >= 500 {
		t.Fatalf("%s = %d, a server error: %s", what, r.Status, r.Body)
	}
	if r.Status >= 400 {
		if l.id != "" {
			// Read as staff: the caller may be one refused whoever it is.
			if got := a.as(staffToken).do("GET", "/v1/orders/"+l.id, nil).want(t, http.StatusOK).order(t); got.Version != len(l.answers) {
				t.Fatalf("%s was refused (%d) yet the order went from version %d to %d", what, r.Status, len(l.answers), got.Version)
			}
		}
		return false
	}
	o := r.order(t)
	if o.Version != len(l.answers)+1 {
		t.Fatalf("%s answered version %d after %d", what, o.Version, len(l.answers))
	}
	if err := check(o); err != nil {
		t.Fatalf("%s: the answer does not show what was sent: %v\n%s", what, err, r.Body)
	}
	l.id, l.answers, l.events = o.ID, append(l.answers, o), append(l.events, ev)
	if key != "" {
		b := ""
		if body != nil {
			b = *body
		}
		l.replays = append(l.replays, keyed{api: a, method: method, path: path, body: b, key: key, status: r.Status, answer: o})
	}
	if got := a.do("GET", "/v1/orders/"+o.ID, nil).want(t, http.StatusOK).order(t); !reflect.DeepEqual(got, o) {
		t.Fatalf("%s answered\n%+v\nbut the order reads\n%+v", what, o, got)
	}
	return true
}

// runLife drives one order from creation to an end with generated values,
// retrying a refused step with plain values so that the life goes on.
func runLife(t *testing.T, a *testAPI, rng *rand.Rand) *life {
	t.Helper()
	l := &life{customer: uuid.NewString()}
	created := func(currency string) (string, func(orderJSON) error) {
		body := `{"customer_id": "` + l.customer + `"`
		if currency != "" {
			body += `, "currency": ` + jsonText(rng, currency)
		}
		return body + "}", func(o orderJSON) error {
			return want("currency", o.Currency, cmpOr(currency, "USD"), "customer_id", o.CustomerID, l.customer, "status", o.Status, "draft")
		}
	}
	body, check := created(currencies[rng.IntN(len(currencies))])
	if !l.send(t, a, rng, "POST", "/v1/orders", &body, eventCheck{typ: "OrderCreated", check: members("customer_id", l.customer)}, check) {
		body, check = created("")
		if !l.send(t, a, rng, "POST", "/v1/orders", &body, eventCheck{typ: "OrderCreated", check: members("customer_id", l.customer)}, check) {
			t.Fatal("a plain create was refused")
		}
	}
	base := "/v1/orders/" + l.id

	var products []string
	for range rng.IntN(6) {
		product, name, quantity, price := uuid.NewString(), text(rng, 200), quantities[rng.IntN(len(quantities))], amount(rng)
		body := `{"product_id": "` + product + `", "product_name": ` + jsonText(rng, name) + `, "quantity": ` + quantity + `, "unit_price": ` + jsonText(rng, price) + `}`
		ev := eventCheck{typ: "OrderItemAdded", check: func(d map[string]any) error {
			return firstErr(members("product_id", product, "product_name", name, "quantity", json.Number(quantity))(d), sameAmount(d["unit_price"], price))
		}}
		if l.send(t, a, rng, "POST", base+"/items", &body, ev, func(o orderJSON) error {
			it := o.Items[len(o.Items)-1]
			return firstErr(want("product_id", it.ProductID, product, "product_name", it.ProductName, name,
				"quantity", strconv.FormatInt(it.Quantity, 10), quantity), sameAmount(it.UnitPrice, price))
		}) {
			products = append(products, product)
		}
	}
	if len(products) > 0 && rng.IntN(3) == 0 {
		p := products[rng.IntN(len(products))]
		if !l.send(t, a, rng, "DELETE", base+"/items/"+p, nil, eventCheck{typ: "OrderItemRemoved", check: members("product_id", p)},
			func(o orderJSON) error { return nil }) {
			t.Fatal("removing an item of a draft was refused")
		}
		products = products[:0] // which remain is not tracked: place needs one
	}
	if len(products) == 0 {
		product := uuid.NewString()
		body := `{"product_id": "` + product + `", "product_name": "Mug", "quantity": 1, "unit_price": "1.00"}`
		if !l.send(t, a, rng, "POST", base+"/items", &body, eventCheck{typ: "OrderItemAdded", check: members("product_id", product)},
			func(o orderJSON) error { return nil }) {
			t.Fatal("a plain item was refused")
		}
	}
	if rng.IntN(5) == 0 {
		l.cancel(t, a, rng, base)
		return l
	}
	l.place(t, a, rng, base)
	if rng.IntN(5) == 0 {
		l.cancel(t, a, rng, base)
		return l
	}
	l.ship(t, a, rng, base)
	l.deliver(t, a, rng, base)
	return l
}

func (l *life) place(t *testing.T, a *testAPI, rng *rand.Rand, base string) {
	t.Helper()
	addr := map[string]string{
		"name": text(rng, 200), "line1": text(rng, 200), "line2": text(rng, 200), "city": text(rng, 200),
		"region": text(rng, 200), "postal_code": text(rng, 20), "country": countries[rng.IntN(len(countries))],
	}
	body := `{"shipping_address": {`
	first := true
	for _, k := range []string{"name", "line1", "line2", "city", "region", "postal_code", "country"} {
		if (k == "line2" || k == "region") && rng.IntN(3) == 0 {
			delete(addr, k)
			continue
		}
		if !first {
			body += ", "
		}
		first = false
		body += `"` + k + `": ` + jsonText(rng, addr[k])
	}
	body += "}}"
	ev := eventCheck{typ: "OrderPlaced", check: func(d map[string]any) error {
		got, _ := d["shipping_address"].(map[string]any)
		for k, v := range addr {
			if gv, _ := got[k].(string); gv != v {
				return fmt.Errorf("shipping_address.%s = %q, want %q", k, gv, v)
			}
		}
		return nil
	}}
	check := func(o orderJSON) error {
		s := o.ShippingAddress
		return want("name", s.Name, addr["name"], "line1", s.Line1, addr["line1"], "line2", deref(s.Line2), addr["line2"],
			"city", s.City, addr["city"], "region", deref(s.Region), addr["region"], "postal_code", s.PostalCode, addr["postal_code"],
			"country", s.Country, addr["country"])
	}
	if !l.send(t, a, rng, "POST", base+"/place", &body, ev, check) {
		plain, _ := json.Marshal(testAddress)
		body := string(plain)
		if !l.send(t, a, rng, "POST", base+"/place", &body, eventCheck{typ: "OrderPlaced", check: members()}, func(orderJSON) error { return nil }) {
			t.Fatal("a plain place was refused")
		}
	}
}

func (l *life) ship(t *testing.T, a *testAPI, rng *rand.Rand, base string) {
	t.Helper()
	tracking, carrier := text(rng, 100), text(rng, 100)
	body := `{"tracking_number": ` + jsonText(rng, tracking) + `, "carrier": ` + jsonText(rng, carrier) + `}`
	check := func(o orderJSON) error {
		return want("tracking_number", deref(o.TrackingNumber), tracking, "carrier", deref(o.Carrier), carrier)
	}
	if !l.send(t, a, rng, "POST", base+"/ship", &body, eventCheck{typ: "OrderShipped", check: members("tracking_number", tracking, "carrier", carrier)}, check) {
		body := `{"tracking_number": "1Z", "carrier": "UPS"}`
		if !l.send(t, a, rng, "POST", base+"/ship", &body, eventCheck{typ: "OrderShipped", check: members()}, func(orderJSON) error { return nil }) {
			t.Fatal("a plain ship was refused")
		}
	}
}

func (l *life) deliver(t *testing.T, a *testAPI, rng *rand.Rand, base string) {
	t.Helper()
	shipped, err := time.Parse(time.RFC3339Nano, *l.answers[len(l.answers)-1].ShippedAt)
	if err != nil {
		t.Fatal(err)
	}
	at, signature := deliveredAt(rng, shipped, time.Now()), text(rng, 200)
	empty := "" // an empty body, as application/json: delivered now
	body := &empty
	if at != "" || rng.IntN(2) == 0 {
		b := `{"signature": ` + jsonText(rng, signature)
		if at != "" {
			b += `, "delivered_at": ` + jsonText(rng, at)
		}
		b += "}"
		body = &b
	} else {
		signature = ""
	}
	sent, _ := time.Parse(time.RFC3339Nano, at)
	sent = sent.Truncate(time.Microsecond)
	sameTime := func(got string) error {
		if at == "" {
			return nil // now: shown in the answer, compared on every read
		}
		g, err := time.Parse(time.RFC3339Nano, got)
		if err != nil || !g.Equal(sent) {
			return fmt.Errorf("delivered_at %q is not %q, to the microsecond", got, at)
		}
		return nil
	}
	ev := eventCheck{typ: "OrderDelivered", check: func(d map[string]any) error {
		s, _ := d["delivered_at"].(string)
		return firstErr(sameTime(s), members("signature", signature)(d))
	}}
	check := func(o orderJSON) error {
		return firstErr(sameTime(deref(o.DeliveredAt)), want("signature", deref(o.Signature), signature))
	}
	if !l.send(t, a, rng, "POST", base+"/deliver", body, ev, check) {
		if !l.send(t, a, rng, "POST", base+"/deliver", &empty, eventCheck{typ: "OrderDelivered", check: members()}, func(orderJSON) error { return nil }) {
			t.Fatal("a plain deliver was refused")
		}
	}
}

func (l *life) cancel(t *testing.T, a *testAPI, rng *rand.Rand, base string) {
	t.Helper()
	reason, by := text(rng, 500), text(rng, 100)
	body := `{"reason": ` + jsonText(rng, reason) + `, "cancelled_by": ` + jsonText(rng, by) + `}`
	// Who cancels is the caller, who may name itself: the text is the
	// subject of the caller's token. An empty one leaves the caller,
	// staff, to be named.
	caller, who := a, staffPrincipal.Subject
	if by != "" {
		caller, who = a.as(testAuthenticator.issue(app.Principal{Subject: by, Roles: app.RolesOf(app.RoleStaff)})), by
	}
	check := func(o orderJSON) error {
		return want("cancel_reason", deref(o.CancelReason), reason, "cancelled_by", deref(o.CancelledBy), who)
	}
	if !l.send(t, caller, rng, "POST", base+"/cancel", &body, eventCheck{typ: "OrderCancelled", check: members("reason", reason, "cancelled_by", who)}, check) {
		body := `{"reason": "changed my mind"}`
		if !l.send(t, a, rng, "POST", base+"/cancel", &body, eventCheck{typ: "OrderCancelled", check: members()}, func(orderJSON) error { return nil }) {
			t.Fatal("a plain cancel was refused")
		}
	}
}

// checkVersions reads every version back: each is its command's answer.
func (l *life) checkVersions(t *testing.T, a *testAPI) {
	t.Helper()
	for v, answer := range l.answers {
		got := a.do("GET", fmt.Sprintf("/v1/orders/%s?version=%d", l.id, v+1), nil).want(t, http.StatusOK).order(t)
		if !reflect.DeepEqual(got, answer) {
			t.Errorf("order %s at version %d reads\n%+v\nbut was answered\n%+v", l.id, v+1, got, answer)
		}
	}
}

// checkHistory reads the order's events: one per accepted command, each
// holding what was sent.
func (l *life) checkHistory(t *testing.T, a *testAPI) {
	t.Helper()
	events := a.events(l.id)
	if len(events) != len(l.events) {
		t.Fatalf("order %s has %d events, want %d", l.id, len(events), len(l.events))
	}
	for i, e := range events {
		if e.Type != l.events[i].typ || e.Unreadable {
			t.Errorf("order %s event %d is %s (unreadable %v), want %s", l.id, i+1, e.Type, e.Unreadable, l.events[i].typ)
			continue
		}
		var data map[string]any
		dec := json.NewDecoder(bytes.NewReader(e.Data))
		dec.UseNumber()
		if err := dec.Decode(&data); err != nil {
			t.Fatal(err)
		}
		if err := l.events[i].check(data); err != nil {
			t.Errorf("order %s event %d (%s): %v\ndata: %s", l.id, i+1, e.Type, err, e.Data)
		}
	}
}

// checkList reads the customer's list: the order's summary is its last
// answer's.
func (l *life) checkList(t *testing.T, a *testAPI) {
	t.Helper()
	var page orderPageJSON
	decodeStrict(t, a.do("GET", "/v1/customers/"+l.customer+"/orders", nil).want(t, http.StatusOK).Body, &page)
	last := l.answers[len(l.answers)-1]
	want := orderSummaryJSON{ID: last.ID, Status: last.Status, Currency: last.Currency, Total: last.Total,
		ItemCount: last.ItemCount, CreatedAt: last.CreatedAt, UpdatedAt: last.UpdatedAt, Version: last.Version}
	if len(page.Orders) != 1 || page.Orders[0] != want {
		t.Errorf("customer %s lists %+v, want %+v", l.customer, page.Orders, want)
	}
}

// checkReplays repeats every keyed request: the same answer, replayed.
func (l *life) checkReplays(t *testing.T, a *testAPI) {
	t.Helper()
	for _, k := range l.replays {
		var r reply
		if k.method == "DELETE" {
			r = k.api.do(k.method, k.path, nil, "Idempotency-Key", k.key)
		} else {
			r = k.api.do(k.method, k.path, k.body, "Idempotency-Key", k.key)
		}
		r.want(t, k.status)
		if got := r.order(t); r.Header.Get("Idempotent-Replayed") != "true" || !reflect.DeepEqual(got, k.answer) {
			t.Errorf("replay of %s %s (%s) = %+v, want %+v replayed", k.method, k.path, k.body, got, k.answer)
		}
	}
}

// checkFeed reads the whole global feed: every event of every life, as
// its order's history shows it.
func checkFeed(t *testing.T, a *testAPI, lives []*life) {
	t.Helper()
	byID := map[string]eventJSON{}
	for _, l := range lives {
		for _, e := range a.events(l.id) {
			byID[e.EventID] = e
		}
	}
	after := ""
	for {
		path := "/v1/events?limit=1000"
		if after != "" {
			path += "&after=" + after
		}
		var page struct {
			Events []struct {
				OrderID string `json:"order_id"`
				eventJSON
			} `json:"events"`
			NextCursor string `json:"next_cursor"`
		}
		decodeStrict(t, a.do("GET", path, nil).want(t, http.StatusOK).Body, &page)
		if len(page.Events) == 0 {
			break
		}
		for _, e := range page.Events {
			h, ok := byID[e.EventID]
			if !ok {
				t.Errorf("the feed has event %s of no life", e.EventID)
				continue
			}
			delete(byID, e.EventID)
			if !reflect.DeepEqual(h, e.eventJSON) {
				t.Errorf("the feed shows\n%+v\nthe history\n%+v", e.eventJSON, h)
			}
		}
		after = page.NextCursor
	}
	if len(byID) > 0 {
		t.Errorf("%d events are missing from the feed", len(byID))
	}
}

// checkProjections counts every event into analytics, then checks that
// all the read models are what the events say.
func checkProjections(t *testing.T, store *eventstore.Store) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	analytics, err := analytics.New(store, zerolog.Nop(), analytics.Config{Poll: 10 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = analytics.Run(ctx)
	}()
	defer func() { cancel(); <-done }()
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(5 * time.Millisecond) {
		report, err := analytics.Projections(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if p := report.Projections[2]; p.LagEvents == 0 && p.Position.Position > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("analytics did not catch up: %+v", report)
		}
	}
	rep, err := projections.Verify(ctx, store, 20)
	if err != nil || rep.Total != 0 || rep.AnalyticsAt.Position == 0 {
		t.Errorf("projections verify: %v, at %+v, %d differences: %v", err, rep.AnalyticsAt, rep.Total, rep.Differences)
	}
}

// checkSnapshots: each order loaded from a snapshot is the order replayed.
func checkSnapshots(t *testing.T, a *testAPI, lives []*life) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	store := eventstore.New(a.pool, eventstore.Config{SnapshotEvery: 1, Keyring: a.keyring})
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = eventstore.NewSnapshotWriter(store, zerolog.Nop()).Run(ctx)
	}()
	defer func() { cancel(); <-done }()
	replays := eventstore.New(a.pool, eventstore.Config{Keyring: a.keyring}) // no snapshots: every load replays
	for _, l := range lives {
		id := uuid.MustParse(l.id)
		replayed, err := replays.Load(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		// A load offers what it folds to the writer; a later one starts
		// from what the writer stored.
		for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(time.Millisecond) {
			hits := store.SnapshotStats().Hits
			loaded, err := store.Load(ctx, id)
			if err != nil {
				t.Fatal(err)
			}
			if store.SnapshotStats().Hits > hits {
				if !reflect.DeepEqual(loaded, replayed) {
					t.Errorf("order %s from a snapshot\n%+v\nreplayed\n%+v", id, loaded, replayed)
				}
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("no load of order %s started from a snapshot", id)
			}
		}
	}
}

// members checks data's members, given as name, value pairs; a value ""
// also stands for a member left out.
func members(pairs ...any) func(map[string]any) error {
	return func(d map[string]any) error {
		for i := 0; i+1 < len(pairs); i += 2 {
			name := pairs[i].(string)
			got, present := d[name]
			if pairs[i+1] == "" && !present {
				continue
			}
			if got != pairs[i+1] {
				return fmt.Errorf("%s = %#v, want %#v", name, got, pairs[i+1])
			}
		}
		return nil
	}
}

// want compares name, got, want triples of strings.
func want(triples ...string) error {
	for i := 0; i+2 < len(triples); i += 3 {
		if triples[i+1] != triples[i+2] {
			return fmt.Errorf("%s = %q, want %q", triples[i], triples[i+1], triples[i+2])
		}
	}
	return nil
}

// sameAmount compares an amount read back with the text sent, as numbers:
// the service writes amounts its own way ("1.10" for "00001.10").
func sameAmount(got any, sent string) error {
	g, _ := got.(string)
	gd, err1 := decimal.NewFromString(g)
	sd, err2 := decimal.NewFromString(sent)
	if err1 != nil || err2 != nil || !gd.Equal(sd) {
		return fmt.Errorf("amount %q, want %q", g, sent)
	}
	return nil
}

func firstErr(errs ...error) error {
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

func cmpOr(s, otherwise string) string {
	if s == "" {
		return otherwise
	}
	return s
}
