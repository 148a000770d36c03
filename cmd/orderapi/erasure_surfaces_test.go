package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/url"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/orderapi/orderapi/internal/adapters/postgres/pgtest"
	"github.com/orderapi/orderapi/internal/domain/customer"
)

// TestErasureChangesNothingButThePersonalData: for random histories of
// several customers, every surface of the service answers after some of
// them are erased as it did before, but for the erased customers'
// personal fields, which read null, and the `erased` mark on what held
// them: each order's document now, at every version and at instants
// between its events, its history, each customer's list, the retries of
// commands sent with an Idempotency-Key, the global feed in pages and
// live, and the daily analytics. The feed gains one record per erasure.
// A rebuild of the read models and a restart change no answer, verify
// finds them clean, and commands on an erased customer's orders still
// work where the rules allow. No request meets a 5xx.
//
// ORDERAPI_ERASURE_SEED replays a run; its seed is logged.
func TestErasureChangesNothingButThePersonalData(t *testing.T) {
	t.Parallel()
	// Given a service, snapshots every few events, its state cache on or
	// off, as the seed says
	dbURL := pgtest.NewURL(t)
	s := newShop(t, dbURL, "ORDERAPI_ERASURE_SEED")
	settings := map[string]string{
		"ORDERAPI_SNAPSHOT_EVERY": strconv.Itoa(1 + s.rng.IntN(3)),
		"ORDERAPI_STATE_CACHE":    []string{"0", "4096"}[s.rng.IntN(2)],
	}
	t.Logf("service settings %v", settings)
	stop := s.start(settings)

	// And random histories of several customers
	s.randomHistories(3+s.rng.IntN(4), 50+s.rng.IntN(50))
	// And some of them to be erased, the first holding a draft, a placed
	// and a shipped order, for commands after its erasure
	erased := s.pickErased()
	spare := s.bringSpares(s.firstErased(erased))
	// And a live feed open from the start
	live := s.openLive(t)
	before := s.capture()
	if got := live.next(t, len(before.feed)); !reflect.DeepEqual(got, before.live) {
		t.Errorf("the live feed opened first gave\n%v\nwhile one opened later gave\n%v", got, before.live)
	}
	s.wantMarkers(before, s.customers, true)
	t.Logf("%d customers, %d erased; %d orders; %d reads, %d retries, %d events in %d pages",
		len(s.customers), len(erased), len(s.orders), len(before.reads), len(s.keyed), len(before.feed), len(before.pages))

	// When staff erase some of the customers
	for _, c := range s.customers {
		if erased[c] {
			s.erase(c)
		}
	}

	// Then the open live feed announces each erasure
	s.wantErasures(dataOf(live.next(t, len(erased))), erasures(erased))
	// And every surface answers as before but for the erased personal data
	after := s.capture()
	s.compare(before, after, erased)
	s.wantMarkers(after, s.erasedOnes(erased), false)
	s.wantMarkers(after, s.keptOnes(erased), true)

	// And the read models rebuilt, verify clean, and nothing answers
	// otherwise
	for _, args := range [][]string{{"rebuild"}, {"verify"}} {
		if out, err := projectionsCmd(t, dbURL, args...); err != nil {
			t.Fatalf("projections %s: %v\n%s", args, err, out)
		}
	}
	s.same("after the rebuild", after, s.capture())

	// And commands on an erased customer's orders work where the rules
	// allow, without its personal data, in the process that held them
	final := s.afterErasure(spare, erased, after)
	if out, err := projectionsCmd(t, dbURL, "verify"); err != nil {
		t.Fatalf("projections verify: %v\n%s", err, out)
	}
	// And a restarted service answers the same
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	s.start(settings)
	s.same("after a restart", final, s.capture())
	if s.serverErrors > 0 {
		t.Errorf("%d requests met a server error", s.serverErrors)
	}
}

// pickErased picks at random some of the customers, not all.
func (s *shop) pickErased() map[*shopper]bool {
	erased := map[*shopper]bool{}
	for _, i := range s.rng.Perm(len(s.customers))[:1+s.rng.IntN(len(s.customers)-1)] {
		erased[s.customers[i]] = true
	}
	return erased
}

// firstErased is the first customer, in the shop's order, of erased.
func (s *shop) firstErased(erased map[*shopper]bool) *shopper {
	return s.customers[slices.IndexFunc(s.customers, func(c *shopper) bool { return erased[c] })]
}

func (s *shop) erasedOnes(erased map[*shopper]bool) []*shopper {
	return slices.DeleteFunc(slices.Clone(s.customers), func(c *shopper) bool { return !erased[c] })
}

func (s *shop) keptOnes(erased map[*shopper]bool) []*shopper {
	return slices.DeleteFunc(slices.Clone(s.customers), func(c *shopper) bool { return erased[c] })
}

// spareOrders are orders of one customer, one in each status that takes
// more commands, spared for after the customer's erasure.
type spareOrders struct {
	customer               *shopper
	draft, placed, shipped *shopOrder
}

// bringSpares gives the customer a draft with an item, a placed order and a
// shipped one, besides its random ones.
func (s *shop) bringSpares(c *shopper) spareOrders {
	s.t.Helper()
	return spareOrders{customer: c, draft: s.bring(c, "draft"), placed: s.bring(c, "placed"), shipped: s.bring(c, "shipped")}
}

// The personal members: of an order document, and of each type of
// event's data.
var (
	documentPersonal = []string{"shipping_address", "signature", "cancel_reason"}
	eventPersonal    = map[string]string{"OrderPlaced": "shipping_address", "OrderDelivered": "signature", "OrderCancelled": "reason"}
)

// Kinds of read, by what erasure may change in their answers.
const (
	readDocument = "document" // an order document: its personal fields
	readHistory  = "history"  // a page of an order's events: theirs
	readRetry    = "retry"    // a keyed command sent again: its answer
	readList     = "list"     // a page of a customer's list: nothing
)

// capture is every answer of the service about the shop.
type capture struct {
	// reads are the answers to each read of an order or a customer and
	// to each retry of a keyed command, by what was sent.
	reads map[string]reply
	kinds map[string]string
	whose map[string]*shopper
	// pages are the feed's pages from its start, and feed their events.
	pages []reply
	feed  []json.RawMessage
	// live is the live feed from its start, as far as the paged one.
	live []liveEvent
	// days are the daily analytics' figures.
	days json.RawMessage
}

// feedLimit is the page size of the feed's walk: small, for many pages.
const feedLimit = 7

func (c *capture) put(key, kind string, whose *shopper, r reply) {
	c.reads[key], c.kinds[key], c.whose[key] = r, kind, whose
}

// capture reads every surface of the service about the shop's customers
// and orders, and retries every keyed command, once the analytics have
// counted every event.
func (s *shop) capture() *capture {
	s.t.Helper()
	waitAnalyticsAtHead(s.t, s.dbURL)
	c := &capture{reads: map[string]reply{}, kinds: map[string]string{}, whose: map[string]*shopper{}}
	read := func(kind string, whose *shopper, path string) reply {
		r := s.get(path)
		c.put(path, kind, whose, r)
		return r
	}
	for _, o := range s.orders {
		path := "/v1/orders/" + o.id
		read(readDocument, o.customer, path)
		var occurred []string
		for after := 0; ; {
			r := read(readHistory, o.customer, fmt.Sprintf("%s/events?after_version=%d&limit=3", path, after))
			var page struct {
				Events []struct {
					OccurredAt string `json:"occurred_at"`
				}
				NextAfterVersion *int `json:"next_after_version"`
			}
			if err := json.Unmarshal(r.body, &page); r.status != http.StatusOK || err != nil {
				s.t.Fatalf("%s/events: %d %s (%v)", path, r.status, r.body, err)
			}
			for _, e := range page.Events {
				occurred = append(occurred, e.OccurredAt)
			}
			if page.NextAfterVersion == nil {
				break
			}
			after = *page.NextAfterVersion
		}
		if o.asOf == nil {
			o.asOf = s.instants(occurred)
		}
		for v := 1; v <= o.version; v++ {
			read(readDocument, o.customer, fmt.Sprintf("%s?version=%d", path, v))
		}
		for _, at := range o.asOf {
			read(readDocument, o.customer, path+"?as_of="+at)
		}
	}
	for _, cu := range s.customers {
		path := "/v1/customers/" + cu.id.String() + "/orders?limit=2"
		for next := path; next != ""; {
			r := read(readList, cu, next)
			var page struct {
				NextCursor *string `json:"next_cursor"`
			}
			if err := json.Unmarshal(r.body, &page); r.status != http.StatusOK || err != nil {
				s.t.Fatalf("%s: %d %s (%v)", next, r.status, r.body, err)
			}
			next = ""
			if page.NextCursor != nil {
				next = path + "&cursor=" + url.QueryEscape(*page.NextCursor)
			}
		}
	}
	for i, k := range s.keyed {
		r := s.send(k.token, k.method, k.path, k.body, "Idempotency-Key", k.key)
		c.put(fmt.Sprintf("retry %d: %s %s %s", i, k.method, k.path, k.body), readRetry, k.customer, r)
	}
	for next := fmt.Sprintf("/v1/events?limit=%d", feedLimit); next != ""; {
		r := s.get(next)
		var page struct {
			Events     []json.RawMessage
			NextCursor string `json:"next_cursor"`
		}
		if err := json.Unmarshal(r.body, &page); r.status != http.StatusOK || err != nil {
			s.t.Fatalf("%s: %d %s (%v)", next, r.status, r.body, err)
		}
		c.pages, c.feed = append(c.pages, r), append(c.feed, page.Events...)
		next = ""
		if len(page.Events) == feedLimit {
			next = fmt.Sprintf("/v1/events?limit=%d&after=%s", feedLimit, url.QueryEscape(page.NextCursor))
		}
	}
	live := s.openLive(s.t)
	c.live = live.next(s.t, len(c.feed))
	live.close()
	for i, e := range c.live {
		if !sameJSON(e.data, c.feed[i]) {
			s.t.Errorf("the live feed's event %d is\n%s\nthe paged feed's\n%s", i, e.data, c.feed[i])
		}
	}
	now := time.Now().UTC()
	r := s.get("/v1/analytics/daily?from=" + now.AddDate(0, 0, -2).Format(time.DateOnly) + "&to=" + now.AddDate(0, 0, 1).Format(time.DateOnly))
	var daily struct{ Days json.RawMessage }
	if err := json.Unmarshal(r.body, &daily); r.status != http.StatusOK || err != nil {
		s.t.Fatalf("analytics: %d %s (%v)", r.status, r.body, err)
	}
	if c.days = daily.Days; len(decode(c.days).([]any)) == 0 {
		s.t.Fatalf("analytics: no day counted: %s", r.body)
	}
	return c
}

// instants are the times an order's time travel is asked at: each of its
// events' occurred_at and the microsecond before (the first of which
// precedes the order), and the last time there is.
func (s *shop) instants(occurred []string) []string {
	s.t.Helper()
	var at []string
	for _, o := range occurred {
		t, err := time.Parse(time.RFC3339Nano, o)
		if err != nil {
			s.t.Fatal(err)
		}
		const layout = "2006-01-02T15:04:05.000000Z07:00"
		at = append(at, t.Add(-time.Microsecond).UTC().Format(layout), t.UTC().Format(layout))
	}
	slices.Sort(at)
	return append(slices.Compact(at), "9998-12-31T23:59:59.999999Z")
}

// decode is JSON as values, numbers as written.
func decode(b []byte) any {
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	var v any
	if err := d.Decode(&v); err != nil {
		return fmt.Sprintf("not JSON (%v): %s", err, b)
	}
	return v
}

func sameJSON(a, b []byte) bool { return reflect.DeepEqual(decode(a), decode(b)) }

// withoutPersonalData is what an answer of kind shows once its
// customer's personal data is erased: the personal members null, and
// `erased: true` on a document or an event that held any.
func withoutPersonalData(kind string, body []byte) any {
	v := decode(body)
	switch kind {
	case readDocument:
		if doc, ok := v.(map[string]any); ok {
			eraseDocument(doc)
		}
	case readHistory:
		if page, ok := v.(map[string]any); ok {
			events, _ := page["events"].([]any)
			for _, e := range events {
				if e, ok := e.(map[string]any); ok {
					eraseEvent(e)
				}
			}
		}
	}
	return v
}

func eraseDocument(doc map[string]any) {
	held := false
	for _, f := range documentPersonal {
		if doc[f] != nil {
			held, doc[f] = true, nil
		}
	}
	if held {
		doc["erased"] = true
	}
}

func eraseEvent(e map[string]any) {
	typ, _ := e["type"].(string)
	data, _ := e["data"].(map[string]any)
	if f, ok := eventPersonal[typ]; ok && data[f] != nil {
		data[f], e["erased"] = nil, true
	}
}

// feedEventOwner is the customer of the order of a feed's event; nil for
// an event of another stream.
func (s *shop) feedEventOwner(raw []byte) *shopper {
	var e struct {
		OrderID string `json:"order_id"`
	}
	_ = json.Unmarshal(raw, &e)
	return s.owner(e.OrderID)
}

// erasedFeedEvent is what a feed's event shows once erased customers'
// personal data is erased.
func (s *shop) erasedFeedEvent(raw []byte, erased map[*shopper]bool) any {
	v := decode(raw)
	if e, ok := v.(map[string]any); ok && erased[s.feedEventOwner(raw)] {
		eraseEvent(e)
	}
	return v
}

// isErasure tells the record of an erasure among a feed's events.
func isErasure(raw json.RawMessage) bool {
	var e struct{ Type string }
	_ = json.Unmarshal(raw, &e)
	return e.Type == customer.TypePersonalDataErased
}

// compare holds after, captured once the erased customers' personal data
// was erased, to before: the same answers, but for the erased ones'
// personal data, and the feed's records of the erasures.
func (s *shop) compare(before, after *capture, erased map[*shopper]bool) {
	s.t.Helper()
	d := differ{t: s.t}
	for _, key := range slices.Sorted(maps.Keys(before.reads)) {
		b, a := before.reads[key], after.reads[key]
		if _, ok := after.reads[key]; !ok {
			d.errorf("%s: read before the erasure, not after", key)
			continue
		}
		if erased[before.whose[key]] && before.kinds[key] == readRetry && b.status < 300 {
			// The digest of the request that claimed the key is forgotten
			// with the customer's personal data: a retry is refused as a
			// different request.
			if a.status != http.StatusUnprocessableEntity || problemCode(a.body) != "idempotency_key_reused" {
				d.errorf("%s: %d %s after the erasure, want 422 idempotency_key_reused", key, a.status, a.body)
			}
			continue
		}
		wantETag := b.etag
		if erased[before.whose[key]] && b.etag != "" && !reflect.DeepEqual(decode(b.body), withoutPersonalData(before.kinds[key], b.body)) {
			// An order that reads erased has another validator.
			wantETag = strings.TrimSuffix(b.etag, `"`) + `-e"`
		}
		if a.status != b.status || a.etag != wantETag {
			d.errorf("%s: %d (ETag %s) after the erasure, %d (ETag %s, want %s) before: %s", key, a.status, a.etag, b.status, b.etag, wantETag, a.body)
			continue
		}
		switch {
		case !erased[before.whose[key]] || b.status != http.StatusOK:
			if !bytes.Equal(a.body, b.body) {
				d.errorf("%s: the erasure changed an answer that showed no erased personal data:\n%s", key, differences(a.body, b.body))
			}
		default:
			if want := withoutPersonalData(before.kinds[key], b.body); !reflect.DeepEqual(decode(a.body), want) {
				d.errorf("%s: after the erasure:\n%s", key, differences(a.body, mustJSON(s.t, want)))
			}
		}
	}
	for key := range after.reads {
		if _, ok := before.reads[key]; !ok {
			d.errorf("%s: read after the erasure only", key)
		}
	}

	// The feed: each event as before but for erased personal data, and
	// the records of the erasures after them all
	var records, events []json.RawMessage
	for _, e := range after.feed {
		if isErasure(e) {
			records = append(records, e)
		} else {
			events = append(events, e)
		}
	}
	s.wantErasures(records, erasures(erased))
	if len(events) != len(before.feed) || len(after.feed) < len(before.feed) || slices.ContainsFunc(after.feed[:len(before.feed)], isErasure) {
		d.errorf("the feed had %d events, has %d and %d records of erasures, not all after them", len(before.feed), len(events), len(records))
	}
	for i := range min(len(events), len(before.feed)) {
		b, a := before.feed[i], events[i]
		if s.feedEventOwner(b) == nil || !erased[s.feedEventOwner(b)] {
			if !bytes.Equal(a, b) {
				d.errorf("feed event %d: the erasure of other customers changed it:\n%s", i, differences(a, b))
			}
		} else if want := s.erasedFeedEvent(b, erased); !reflect.DeepEqual(decode(a), want) {
			d.errorf("feed event %d after the erasure:\n%s", i, differences(a, mustJSON(s.t, want)))
		}
	}
	// And each full page as before, cursors and all
	for i, b := range before.pages {
		var page struct {
			Events     []json.RawMessage
			NextCursor string `json:"next_cursor"`
		}
		if err := json.Unmarshal(b.body, &page); err != nil || len(page.Events) < feedLimit {
			break
		}
		want := map[string]any{"next_cursor": page.NextCursor}
		var es []any
		for _, e := range page.Events {
			es = append(es, s.erasedFeedEvent(e, erased))
		}
		want["events"] = es
		if i >= len(after.pages) || !reflect.DeepEqual(decode(after.pages[i].body), decode(mustJSON(s.t, want))) {
			d.errorf("feed page %d after the erasure is not the page before it, erased", i)
		}
	}
	// And the live feed likewise, ids and all
	var liveEvents []liveEvent
	for _, e := range after.live {
		if !isErasure(e.data) {
			liveEvents = append(liveEvents, e)
		}
	}
	for i := range min(len(liveEvents), len(before.live)) {
		b, a := before.live[i], liveEvents[i]
		if a.id != b.id || a.typ != b.typ || !reflect.DeepEqual(decode(a.data), s.erasedFeedEvent(b.data, erased)) {
			d.errorf("live event %d after the erasure: id %s, event %s, was id %s, event %s; data:\n%s",
				i, a.id, a.typ, b.id, b.typ, differences(a.data, mustJSON(s.t, s.erasedFeedEvent(b.data, erased))))
		}
	}
	// And the analytics exactly as they were
	if !bytes.Equal(after.days, before.days) {
		d.errorf("the daily analytics after the erasure\n%s\nwere\n%s", after.days, before.days)
	}
}

// same holds b to a: every answer the same, byte for byte.
func (s *shop) same(when string, a, b *capture) {
	s.t.Helper()
	d := differ{t: s.t}
	for _, key := range slices.Sorted(maps.Keys(a.reads)) {
		ra, rb := a.reads[key], b.reads[key]
		if ra.status != rb.status || ra.etag != rb.etag || !bytes.Equal(withoutRequestID(ra.body), withoutRequestID(rb.body)) {
			d.errorf("%s %s: %d (ETag %s), was %d (ETag %s):\n%s", when, key, rb.status, rb.etag, ra.status, ra.etag, differences(rb.body, ra.body))
		}
	}
	if len(b.reads) != len(a.reads) {
		d.errorf("%s: %d reads, were %d", when, len(b.reads), len(a.reads))
	}
	if len(a.pages) != len(b.pages) {
		d.errorf("%s: %d pages of the feed, were %d", when, len(b.pages), len(a.pages))
	}
	for i := range min(len(a.pages), len(b.pages)) {
		if !bytes.Equal(a.pages[i].body, b.pages[i].body) {
			d.errorf("%s: feed page %d:\n%s", when, i, differences(b.pages[i].body, a.pages[i].body))
		}
	}
	if !reflect.DeepEqual(a.live, b.live) {
		d.errorf("%s: the live feed\n%v\nwas\n%v", when, b.live, a.live)
	}
	if !bytes.Equal(a.days, b.days) {
		d.errorf("%s: the daily analytics\n%s\nwere\n%s", when, b.days, a.days)
	}
}

// differences says where the JSON got differs from want, member by
// member, or that the two differ only in their bytes.
func differences(got, want []byte) string {
	var out []string
	var walk func(path string, g, w any)
	walk = func(path string, g, w any) {
		switch w := w.(type) {
		case map[string]any:
			if g, ok := g.(map[string]any); ok {
				for _, k := range slices.Sorted(maps.Keys(w)) {
					if _, ok := g[k]; !ok {
						out = append(out, fmt.Sprintf("%s.%s: absent, want %s", path, k, mustJSONText(w[k])))
						continue
					}
					walk(path+"."+k, g[k], w[k])
				}
				for _, k := range slices.Sorted(maps.Keys(g)) {
					if _, ok := w[k]; !ok {
						out = append(out, fmt.Sprintf("%s.%s: %s, want it absent", path, k, mustJSONText(g[k])))
					}
				}
				return
			}
		case []any:
			if g, ok := g.([]any); ok && len(g) == len(w) {
				for i := range w {
					walk(fmt.Sprintf("%s[%d]", path, i), g[i], w[i])
				}
				return
			}
		}
		if !reflect.DeepEqual(g, w) {
			out = append(out, fmt.Sprintf("%s: %s, want %s", path, mustJSONText(g), mustJSONText(w)))
		}
	}
	walk("$", decode(got), decode(want))
	if len(out) == 0 {
		return fmt.Sprintf("the same JSON in other bytes:\n%s\nwant\n%s", got, want)
	}
	return strings.Join(out, "\n")
}

func mustJSONText(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}

// differ reports differences, the first few in full.
type differ struct {
	t *testing.T
	n int
}

func (d *differ) errorf(format string, args ...any) {
	d.t.Helper()
	d.n++
	switch {
	case d.n <= 20:
		d.t.Errorf(format, args...)
	case d.n == 21:
		d.t.Error("and more differences")
	}
}

// wantMarkers checks that every marker of the customers is somewhere in
// the captured answers (present), or nowhere.
func (s *shop) wantMarkers(c *capture, customers []*shopper, present bool) {
	s.t.Helper()
	var all bytes.Buffer
	for _, r := range c.reads {
		all.Write(r.body)
	}
	for _, p := range c.pages {
		all.Write(p.body)
	}
	for _, e := range c.live {
		all.Write(e.data)
	}
	for _, cu := range customers {
		for _, m := range cu.markers {
			if found := bytes.Contains(all.Bytes(), []byte(m)); found != present {
				s.t.Errorf("customer %s's personal value %q: shown %t, want %t", cu.id, m, found, present)
			}
		}
	}
}

// erasures counts one erasure of each erased customer.
func erasures(erased map[*shopper]bool) map[*shopper]int {
	n := map[*shopper]int{}
	for c := range erased {
		n[c] = 1
	}
	return n
}

// wantErasures checks the feed's records of erasures: as many of each
// customer as times says, in the customer's stream, naming it and who
// erased it, and nothing personal.
func (s *shop) wantErasures(records []json.RawMessage, times map[*shopper]int) {
	s.t.Helper()
	seen := map[uuid.UUID]int{}
	for _, raw := range records {
		var e struct {
			OrderID  string `json:"order_id"`
			Type     string
			Version  int
			Data     map[string]any
			Metadata struct{ Actor string }
			Erased   *bool
		}
		if err := json.Unmarshal(raw, &e); err != nil {
			s.t.Fatalf("%v: %s", err, raw)
		}
		id, _ := uuid.Parse(fmt.Sprint(e.Data["customer_id"]))
		seen[id]++
		keys, _ := e.Data["data_keys"].([]any)
		if e.Type != customer.TypePersonalDataErased || e.OrderID != customer.StreamID(id).String() || len(e.Data) != 2 || len(keys) > 1 ||
			e.Version != seen[id] || e.Metadata.Actor != "support-erasure" || e.Erased != nil {
			s.t.Errorf("record of an erasure: %s", raw)
		}
	}
	for _, c := range s.customers {
		if seen[c.id] != times[c] {
			s.t.Errorf("customer %s: %d records of its erasure, want %d", c.id, seen[c.id], times[c])
		}
	}
}

// liveFeed is the feed as server-sent events.
type liveFeed struct {
	events <-chan liveEvent
	done   chan error
	stop   context.CancelFunc
}

// liveEvent is one message of the live feed.
type liveEvent struct {
	id, typ string
	data    json.RawMessage
}

// openLive opens the live feed from its start.
func (s *shop) openLive(t *testing.T) *liveFeed {
	t.Helper()
	ctx, stop := context.WithCancel(context.Background())
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.base+"/v1/events", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Accept", "text/event-stream")
	resp, err := authed.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode >= 500 {
			s.serverErrors++
		}
		t.Fatalf("live feed = %d: %s", resp.StatusCode, b)
	}
	events, done := make(chan liveEvent, 1024), make(chan error, 1)
	go func() {
		defer resp.Body.Close()
		done <- readEvents(ctx, resp.Body, events)
		close(events)
	}()
	l := &liveFeed{events: events, done: done, stop: stop}
	t.Cleanup(l.close)
	return l
}

// readEvents sends the messages of a live feed's body to events until it
// ends or ctx does.
func readEvents(ctx context.Context, body io.Reader, events chan<- liveEvent) error {
	sc := bufio.NewScanner(body)
	sc.Buffer(nil, 1<<20)
	var e liveEvent
	for sc.Scan() {
		line := sc.Text()
		switch {
		case line == "":
			if e.data != nil {
				select {
				case events <- e:
				case <-ctx.Done():
					return ctx.Err()
				}
			}
			e = liveEvent{}
		case strings.HasPrefix(line, "id: "):
			e.id = line[len("id: "):]
		case strings.HasPrefix(line, "event: "):
			e.typ = line[len("event: "):]
		case strings.HasPrefix(line, "data: "):
			e.data = json.RawMessage(line[len("data: "):])
		}
	}
	return sc.Err()
}

// next waits for the next n events.
func (l *liveFeed) next(t *testing.T, n int) []liveEvent {
	t.Helper()
	var got []liveEvent
	timeout := time.After(30 * time.Second)
	for len(got) < n {
		select {
		case e, ok := <-l.events:
			if !ok {
				t.Fatalf("the live feed ended after %d of %d events: %v", len(got), n, <-l.done)
			}
			got = append(got, e)
		case <-timeout:
			t.Fatalf("the live feed gave %d of %d events in 30 s", len(got), n)
		}
	}
	return got
}

func (l *liveFeed) close() { l.stop() }

// dataOf is the events' data.
func dataOf(events []liveEvent) []json.RawMessage {
	out := make([]json.RawMessage, len(events))
	for i, e := range events {
		out[i] = e.data
	}
	return out
}

// afterErasure: commands on an erased customer's orders work where the
// rules allow, and show none of its erased data; personal data they
// record is kept under a new key, shown, and erased by the next erasure.
// Nothing else changes. It returns what the service answers then.
func (s *shop) afterErasure(k spareOrders, erased map[*shopper]bool, after *capture) *capture {
	s.t.Helper()
	c := k.customer
	check := func(what string, o *shopOrder, doc map[string]any, status string, want map[string]any) {
		s.t.Helper()
		if doc["status"] != status {
			s.t.Errorf("%s: status %v, want %s", what, doc["status"], status)
		}
		for f, v := range want {
			if !reflect.DeepEqual(doc[f], v) {
				s.t.Errorf("%s: %s is %v, want %v", what, f, doc[f], v)
			}
		}
		if got := s.get("/v1/orders/" + o.id); !reflect.DeepEqual(decode(got.body), decode(mustJSON(s.t, doc))) {
			s.t.Errorf("%s answered\n%v\nbut the order reads\n%s", what, doc, got.body)
		}
	}
	// Its placed order ships, its address still erased
	doc := s.ship(k.placed)
	check("shipping an erased customer's order", k.placed, doc, "shipped", map[string]any{"shipping_address": nil, "erased": true})
	// Its shipped order is delivered, signed: the new signature shown
	n := len(c.markers)
	doc = s.deliverSigned(k.shipped)
	check("delivering an erased customer's order", k.shipped, doc, "delivered", map[string]any{"shipping_address": nil, "erased": true})
	s.wantShown("the new signature", doc["signature"], c.markers[n:])
	// Its draft is placed at a new address, shown
	n = len(c.markers)
	doc = s.place(k.draft)
	check("placing an erased customer's draft", k.draft, doc, "placed", map[string]any{"erased": nil})
	s.wantShown("the new address", doc["shipping_address"], c.markers[n:])
	// And a new order of its is cancelled, the reason shown
	o := s.create(c)
	s.addItem(o)
	n = len(c.markers)
	doc = s.cancel(o)
	check("cancelling an erased customer's new order", o, doc, "cancelled", map[string]any{"erased": nil})
	s.wantShown("the new reason", doc["cancel_reason"], c.markers[n:])

	// When the customer is erased again
	s.erase(c)

	// Then what it recorded since reads null too, and the erasure is on
	// record again
	final := s.capture()
	touched := []*shopOrder{k.placed, k.shipped, k.draft, o}
	for _, t := range touched {
		doc := decode(s.get("/v1/orders/" + t.id).body).(map[string]any)
		for _, f := range documentPersonal {
			if doc[f] != nil {
				s.t.Errorf("order %s after the second erasure: %s is %v", t.id, f, doc[f])
			}
		}
		if doc["erased"] != true {
			s.t.Errorf("order %s after the second erasure is not marked erased: %v", t.id, doc)
		}
		history := decode(s.get("/v1/orders/" + t.id + "/events").body).(map[string]any)
		for _, e := range history["events"].([]any) {
			e := e.(map[string]any)
			if f, ok := eventPersonal[e["type"].(string)]; ok && (e["data"].(map[string]any)[f] != nil || e["erased"] != true) {
				s.t.Errorf("order %s's %s after the second erasure: %v", t.id, e["type"], e)
			}
		}
	}
	var records []json.RawMessage
	for _, e := range final.feed {
		if isErasure(e) {
			records = append(records, e)
		}
	}
	times := erasures(erased)
	times[c] = 2
	s.wantErasures(records, times)
	s.wantMarkers(final, s.erasedOnes(erased), false)
	s.wantMarkers(final, s.keptOnes(erased), true)
	// And nothing else changed: every other answer, the feed and the live
	// feed up to the erasure as they were
	d := differ{t: s.t}
	for key, r := range after.reads {
		if after.whose[key] == c && after.kinds[key] == readList || slices.ContainsFunc(touched, func(t *shopOrder) bool { return strings.Contains(key, t.id) }) {
			continue
		}
		if f := final.reads[key]; f.status != r.status || f.etag != r.etag || !bytes.Equal(withoutRequestID(f.body), withoutRequestID(r.body)) {
			d.errorf("%s after commands on other orders and a second erasure: %d, was %d:\n%s", key, f.status, r.status, differences(f.body, r.body))
		}
	}
	if len(final.feed) < len(after.feed) || !slices.EqualFunc(after.feed, final.feed[:len(after.feed)], func(a, b json.RawMessage) bool { return bytes.Equal(a, b) }) {
		d.errorf("the feed's first %d events changed", len(after.feed))
	}
	if len(final.live) < len(after.live) || !reflect.DeepEqual(after.live, final.live[:len(after.live)]) {
		d.errorf("the live feed's first %d events changed", len(after.live))
	}
	return final
}

// wantShown checks that a value shows every one of the markers.
func (s *shop) wantShown(what string, v any, markers []string) {
	s.t.Helper()
	shown := string(mustJSON(s.t, v))
	for _, m := range markers {
		if !strings.Contains(shown, m) {
			s.t.Errorf("%s reads %s, without %s", what, shown, m)
		}
	}
	if len(markers) == 0 {
		s.t.Errorf("%s: no marker to look for", what)
	}
}

// problemCode is the code of a problem document; "" for anything else.
func problemCode(body []byte) string {
	var p struct {
		Code string `json:"code"`
	}
	_ = json.Unmarshal(body, &p)
	return p.Code
}

// withoutRequestID is a problem document without the id of the request
// that met it, which is every request's own; anything else as it is.
func withoutRequestID(body []byte) []byte {
	var p map[string]any
	if json.Unmarshal(body, &p) != nil || p["code"] == nil {
		return body
	}
	delete(p, "request_id")
	out, _ := json.Marshal(p)
	return out
}
