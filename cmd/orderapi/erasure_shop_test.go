package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"math/rand/v2"
	"net/http"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
)

// The erasure tests drive the service as its clients do, through its
// HTTP API only: a shop of customers whose orders go through random
// lives, each personal value (an address's lines, a signature, a reason)
// carrying a marker, a made-up word found nowhere else, so that a test
// can look for it in any answer or in a dump of the database.

// shop is a running service and what the test did to it.
type shop struct {
	t *testing.T
	// dbURL is the service's database, base its URL.
	dbURL, base string
	rng         *rand.Rand
	// markers counts the markers made, so that each is new.
	markers   int
	customers []*shopper
	orders    []*shopOrder
	// keyed are the commands sent with an Idempotency-Key, to be sent
	// again as retries.
	keyed []keyedCommand
	// serverErrors counts the 5xx answers, each reported as it came.
	serverErrors int
}

// shopper is a customer of the shop.
type shopper struct {
	id    uuid.UUID
	token string
	// markers are those of the personal data the customer's orders
	// recorded, in the order they were sent.
	markers []string
}

// shopOrder is an order as the test knows it.
type shopOrder struct {
	id       string
	customer *shopper
	status   string
	version  int
	products []string
	// asOf are the instants its time travel is asked at, chosen once.
	asOf []string
}

// keyedCommand is a command sent with an Idempotency-Key.
type keyedCommand struct {
	customer                       *shopper
	token, method, path, body, key string
}

// reply is an answer of the service, with what must not change.
type reply struct {
	status int
	etag   string
	body   []byte
}

// newShop starts the test's shop on the database (start starts the
// service), with a seeded generator: the seed is logged, and the
// variable env replays it.
func newShop(t *testing.T, dbURL, env string) *shop {
	t.Helper()
	seed := uint64(time.Now().UnixNano())
	if s := os.Getenv(env); s != "" {
		var err error
		if seed, err = strconv.ParseUint(s, 10, 64); err != nil {
			t.Fatalf("%s=%q: %v", env, s, err)
		}
	}
	t.Logf("seed %d (%s=%d replays it)", seed, env, seed)
	return &shop{t: t, dbURL: dbURL, rng: rand.New(rand.NewPCG(seed, 0x5ea1ed))}
}

// start starts the service on the shop's database, with settings beside
// manyRequestsEnv, for the shop to send to; it returns what stops it.
func (s *shop) start(settings map[string]string) (stop func() error) {
	s.t.Helper()
	vars := maps.Clone(manyRequestsEnv)
	maps.Copy(vars, settings)
	addr, stop := startServerWith(s.t, s.dbURL, vars, io.Discard)
	s.base = "http://" + addr
	return stop
}

// newID is a version 4 UUID drawn from the seeded generator, so that a
// replayed seed makes the same customers, orders and products.
func (s *shop) newID() uuid.UUID {
	var b [16]byte
	binary.LittleEndian.PutUint64(b[:8], s.rng.Uint64())
	binary.LittleEndian.PutUint64(b[8:], s.rng.Uint64())
	id, err := uuid.NewRandomFromReader(bytes.NewReader(b[:]))
	if err != nil {
		s.t.Fatal(err)
	}
	return id
}

// syllables make the markers: words of no language, which no other text
// of the service (ids in hex, base64, field names) holds by chance.
var syllables = []string{"quor", "vel", "zan", "brok", "mire", "thal", "wex", "plin", "dor", "gav", "yss", "fen", "crad", "olm", "jub", "rix"}

// marker is a new made-up word: capitalised, then two syllables, then
// the count of markers in three letters, so that no marker is part of
// another.
func (s *shop) marker(c *shopper) string {
	n := s.markers
	s.markers++
	first, second := syllables[s.rng.IntN(len(syllables))], syllables[s.rng.IntN(len(syllables))]
	w := strings.ToUpper(first[:1]) + first[1:] + second + string(rune('a'+n/676%26)) + string(rune('a'+n/26%26)) + string(rune('a'+n%26))
	c.markers = append(c.markers, w)
	return w
}

// personal is a personal value of the customer: a marker among ordinary
// words, some not ASCII, some that JSON escapes.
func (s *shop) personal(c *shopper, before, after []string) string {
	return before[s.rng.IntN(len(before))] + s.marker(c) + after[s.rng.IntN(len(after))]
}

func (s *shop) address(c *shopper) map[string]any {
	a := map[string]any{
		"name":        s.personal(c, []string{"", "Dr ", "Ms ", "Zoë "}, []string{"", " O'Hara", ` "Jr"`, " Ørsted"}),
		"line1":       s.personal(c, []string{"1 ", "221b ", "17 "}, []string{" Lane", " Road", " Straße"}),
		"city":        s.personal(c, []string{"", "Upper "}, []string{"", " on Sea", "-le-Bois"}),
		"postal_code": fmt.Sprintf("Q%d %dZZ", s.rng.IntN(99), s.rng.IntN(9)),
		"country":     []string{"GB", "DE", "FR", "US", "JP"}[s.rng.IntN(5)],
	}
	if s.rng.IntN(2) == 0 {
		a["line2"] = s.personal(c, []string{"Flat 3, ", "c/o "}, []string{"", " House"})
	}
	if s.rng.IntN(2) == 0 {
		a["region"] = s.personal(c, []string{""}, []string{"shire", " County"})
	}
	return a
}

// addCustomer adds a customer of the shop.
func (s *shop) addCustomer() *shopper {
	id := s.newID()
	c := &shopper{id: id, token: customerTokenOf(s.t, id)}
	s.customers = append(s.customers, c)
	return c
}

// owner is the customer of the order with the id, nil if the test made
// no such order.
func (s *shop) owner(orderID string) *shopper {
	for _, o := range s.orders {
		if o.id == orderID {
			return o.customer
		}
	}
	return nil
}

// requestID is the X-Request-Id of a read: the same for the same read
// every time, so that its answers, problems included, compare whole.
func requestID(path string) string {
	sum := sha256.Sum256([]byte(path))
	return "read-" + hex.EncodeToString(sum[:16])
}

// send sends a request with token (operatorToken if ""), a JSON body
// (none if empty) and header pairs. A 5xx is reported at once: nothing
// the tests send may meet one.
func (s *shop) send(token, method, path, body string, header ...string) reply {
	s.t.Helper()
	req, err := http.NewRequest(method, s.base+path, strings.NewReader(body))
	if err != nil {
		s.t.Fatal(err)
	}
	if token == "" {
		token = operatorToken()
	}
	req.Header.Set("Authorization", "Bearer "+token)
	if method == http.MethodPost {
		req.Header.Set("Content-Type", "application/json")
	}
	if method == http.MethodGet {
		req.Header.Set("X-Request-Id", requestID(path))
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		s.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		s.t.Fatalf("%s %s: %v", method, path, err)
	}
	if resp.StatusCode >= 500 {
		s.serverErrors++
		s.t.Errorf("%s %s = %d, a server error: %s", method, path, resp.StatusCode, b)
	}
	return reply{status: resp.StatusCode, etag: resp.Header.Get("ETag"), body: b}
}

// get reads path as operatorToken, which holds staff and service.
func (s *shop) get(path string) reply {
	s.t.Helper()
	return s.send("", http.MethodGet, path, "")
}

// command sends a command on o (nil for a create) as the customer or as
// staff, at random (ship and deliver are staff's), sometimes with an
// Idempotency-Key, and fails the test unless it is accepted; it returns
// the answer's document.
func (s *shop) command(o *shopOrder, c *shopper, path string, body any, staffOnly bool) map[string]any {
	s.t.Helper()
	text := ""
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			s.t.Fatal(err)
		}
		text = string(b)
	}
	token := operatorToken()
	if !staffOnly && s.rng.IntN(2) == 0 {
		token = c.token
	}
	var header []string
	key := ""
	if s.rng.IntN(4) == 0 {
		key = s.newID().String()
		header = []string{"Idempotency-Key", key}
	}
	method := http.MethodPost
	if strings.Contains(path, "/items/") {
		method = http.MethodDelete
	}
	r := s.send(token, method, path, text, header...)
	if r.status != http.StatusOK && r.status != http.StatusCreated {
		s.t.Fatalf("%s %s %s = %d: %s", method, path, text, r.status, r.body)
	}
	if key != "" {
		s.keyed = append(s.keyed, keyedCommand{customer: c, token: token, method: method, path: path, body: text, key: key})
	}
	var doc map[string]any
	if err := json.Unmarshal(r.body, &doc); err != nil {
		s.t.Fatalf("%s %s: %v: %s", method, path, err, r.body)
	}
	if o != nil {
		o.version++
		if v, _ := doc["version"].(float64); int(v) != o.version {
			s.t.Fatalf("%s %s answered version %v, want %d", method, path, doc["version"], o.version)
		}
		o.status, _ = doc["status"].(string)
	}
	return doc
}

// create makes a draft order of the customer's.
func (s *shop) create(c *shopper) *shopOrder {
	s.t.Helper()
	o := &shopOrder{id: s.newID().String(), customer: c, status: "draft", version: 1}
	body := map[string]any{"id": o.id, "customer_id": c.id.String(), "currency": []string{"USD", "EUR", "GBP"}[s.rng.IntN(3)]}
	if doc := s.command(nil, c, "/v1/orders", body, false); doc["id"] != o.id || doc["status"] != "draft" {
		s.t.Fatalf("create answered %v", doc)
	}
	s.orders = append(s.orders, o)
	return o
}

// step takes the order one random step along its life, as its status
// allows; false if it has ended.
func (s *shop) step(o *shopOrder) bool {
	s.t.Helper()
	path := "/v1/orders/" + o.id
	switch o.status {
	case "draft":
		switch n := s.rng.IntN(9); {
		case n < 4 || len(o.products) == 0:
			s.addItem(o)
		case n < 5:
			i := s.rng.IntN(len(o.products))
			s.command(o, o.customer, path+"/items/"+o.products[i], nil, false)
			o.products = append(o.products[:i], o.products[i+1:]...)
		case n < 8:
			s.place(o)
		default:
			s.cancel(o)
		}
	case "placed":
		if s.rng.IntN(4) == 0 {
			s.cancel(o)
		} else {
			s.ship(o)
		}
	case "shipped":
		s.deliver(o)
	default:
		return false
	}
	return true
}

func (s *shop) addItem(o *shopOrder) {
	s.t.Helper()
	p := s.newID().String()
	s.command(o, o.customer, "/v1/orders/"+o.id+"/items", map[string]any{
		"product_id":   p,
		"product_name": []string{"Teapot", "Espresso beans, 1 kg", "Mug", "Kettle"}[s.rng.IntN(4)],
		"quantity":     1 + s.rng.IntN(5),
		"unit_price":   fmt.Sprintf("%d.%02d", 1+s.rng.IntN(200), s.rng.IntN(100)),
	}, false)
	o.products = append(o.products, p)
}

func (s *shop) place(o *shopOrder) map[string]any {
	s.t.Helper()
	return s.command(o, o.customer, "/v1/orders/"+o.id+"/place", map[string]any{"shipping_address": s.address(o.customer)}, false)
}

func (s *shop) cancel(o *shopOrder) map[string]any {
	s.t.Helper()
	reason := s.personal(o.customer, []string{"", "asked by ", "moved to "}, []string{"", " — changed their mind", " (no longer needed)"})
	return s.command(o, o.customer, "/v1/orders/"+o.id+"/cancel", map[string]any{"reason": reason}, false)
}

func (s *shop) ship(o *shopOrder) map[string]any {
	s.t.Helper()
	return s.command(o, o.customer, "/v1/orders/"+o.id+"/ship",
		map[string]any{"tracking_number": fmt.Sprintf("1Z%08d", s.rng.IntN(1e8)), "carrier": []string{"UPS", "DHL", "La Poste"}[s.rng.IntN(3)]}, true)
}

// deliver records the delivery with a signature, with none, or with no
// body at all.
func (s *shop) deliver(o *shopOrder) {
	s.t.Helper()
	var body any
	switch s.rng.IntN(3) {
	case 0:
		s.deliverSigned(o)
		return
	case 1:
		body = map[string]any{}
	}
	s.command(o, o.customer, "/v1/orders/"+o.id+"/deliver", body, true)
}

// deliverSigned records the delivery with a signature.
func (s *shop) deliverSigned(o *shopOrder) map[string]any {
	s.t.Helper()
	return s.command(o, o.customer, "/v1/orders/"+o.id+"/deliver",
		map[string]any{"signature": s.personal(o.customer, []string{"", "p.p. "}, []string{"", " ✍"})}, true)
}

// bring takes a new order of the customer's to the status.
func (s *shop) bring(c *shopper, status string) *shopOrder {
	s.t.Helper()
	o := s.create(c)
	s.addItem(o)
	for _, next := range []string{"placed", "shipped"} {
		if o.status == status {
			break
		}
		if next == "placed" {
			s.place(o)
		} else {
			s.ship(o)
		}
	}
	if o.status != status {
		s.t.Fatalf("order %s is %s, want %s", o.id, o.status, status)
	}
	return o
}

// randomHistories makes customers and takes their orders, interleaved,
// through random lives: some end delivered or cancelled, some stay
// where they are.
func (s *shop) randomHistories(customers, steps int) {
	s.t.Helper()
	for range customers {
		s.addCustomer()
	}
	for range steps {
		var open []*shopOrder
		for _, o := range s.orders {
			if o.status == "draft" || o.status == "placed" || o.status == "shipped" {
				open = append(open, o)
			}
		}
		if len(open) == 0 || s.rng.IntN(5) == 0 {
			s.create(s.customers[s.rng.IntN(len(s.customers))])
			continue
		}
		s.step(open[s.rng.IntN(len(open))])
	}
}

// erase erases the customer's personal data, as staff.
func (s *shop) erase(c *shopper) {
	s.t.Helper()
	if r := s.send(staffTokenOf(s.t, "support-erasure"), http.MethodDelete, "/v1/customers/"+c.id.String()+"/personal-data", ""); r.status != http.StatusNoContent || len(r.body) != 0 {
		s.t.Fatalf("erasing customer %s = %d: %s", c.id, r.status, r.body)
	}
}
