package main

import (
	"bytes"
	"regexp"
	"strings"
	"testing"

	"github.com/google/uuid"
	"github.com/orderapi/orderapi/internal/adapters/postgres/pgtest"
)

// TestADumpOfTheDatabaseHoldsNoPersonalData: a backup of the database,
// pg_dump's plain dump of every table, holds none of the personal data
// that the service shows (names, address lines, signatures, reasons),
// before an erasure and after it; it holds no key of an erased customer,
// so that even with the master key nothing of the customer comes back:
// the service, given the master key and a restore of the dump, answers
// exactly as the service it was taken from, erased customers erased.
//
// ORDERAPI_DUMP_SEED replays a run; its seed is logged.
func TestADumpOfTheDatabaseHoldsNoPersonalData(t *testing.T) {
	t.Parallel()
	// Given a service snapshotting every event, and customers whose
	// orders recorded personal data in every way: placed to addresses,
	// delivered signed, cancelled for reasons, some with Idempotency-Keys
	dbURL := pgtest.NewURL(t)
	s := newShop(t, dbURL, "ORDERAPI_DUMP_SEED")
	settings := map[string]string{"ORDERAPI_SNAPSHOT_EVERY": "1"}
	stop := s.start(settings)
	s.randomHistories(4, 40)
	for _, c := range s.customers {
		s.deliverSigned(s.bring(c, "shipped"))
		s.cancel(s.bring(c, "placed"))
	}
	// And every answer read once, so that reads wrote their snapshots
	before := s.capture()
	s.wantMarkers(before, s.customers, true)

	// When the database is dumped
	dump := pgtest.Dump(t, dbURL)

	// Then the dump holds the orders, their personal data sealed, and
	// none of it in clear
	s.wantDumpOf(dump)
	s.wantNoMarker("the dump", dump)

	// When some customers are erased, their personal data now null in
	// every answer, and the database dumped again
	erased := s.pickErased()
	for _, c := range s.erasedOnes(erased) {
		s.erase(c)
	}
	after := s.capture()
	s.compare(before, after, erased)
	s.wantMarkers(after, s.erasedOnes(erased), false)
	dump = pgtest.Dump(t, dbURL)

	// Then it holds no personal data in clear either
	s.wantDumpOf(dump)
	s.wantNoMarker("the dump after the erasure", dump)
	// And no key of an erased customer: every key a sealed value names is
	// there, an erased customer's without its wrapped key
	s.wantKeys(dump, erased)

	// And the service, with the master key, on a restore of the dump,
	// answers as the service did: the erased customers' data erased
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	restored := pgtest.NewURL(t)
	dropSchema(t, restored)
	pgtest.Restore(t, restored, dump)
	s.dbURL = restored
	s.start(settings)
	s.same("from a restore of the dump", after, s.capture())
	if s.serverErrors > 0 {
		t.Errorf("%d requests met a server error", s.serverErrors)
	}
}

// sealedValue is a personal value as the store keeps it: the id of the
// key that sealed it, a dot, and the sealed bytes in base64.
var sealedValue = regexp.MustCompile(`([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})\.[A-Za-z0-9+/]{16,}`)

// wantDumpOf checks that the dump is one of the shop's data: every
// order is in it, and at least as many sealed values as the personal
// values the customers recorded, each kept in the events and again in
// the read model.
func (s *shop) wantDumpOf(dump []byte) {
	s.t.Helper()
	for _, o := range s.orders {
		if !bytes.Contains(dump, []byte(o.id)) {
			s.t.Fatalf("the dump lacks order %s: not a dump of the service's database", o.id)
		}
	}
	markers := 0
	for _, c := range s.customers {
		markers += len(c.markers)
	}
	n := len(sealedValue.FindAll(dump, -1))
	if n < markers/4 {
		s.t.Errorf("the dump holds %d sealed values, for %d marked words of personal data", n, markers)
	}
	s.t.Logf("a dump of %d bytes, %d sealed values, %d words to look for, %d orders", len(dump), n, markers, len(s.orders))
}

// wantNoMarker checks that no customer's personal value is in b, in any
// case.
func (s *shop) wantNoMarker(what string, b []byte) {
	s.t.Helper()
	lower := bytes.ToLower(b)
	for _, c := range s.customers {
		for _, m := range c.markers {
			if i := bytes.Index(lower, []byte(strings.ToLower(m))); i >= 0 {
				s.t.Errorf("%s holds customer %s's %q in clear, in %s: …%q…", what, c.id, m, tableAt(b, i), b[max(0, i-80):min(len(b), i+80)])
			}
		}
	}
}

// tableAt names the table whose COPY holds the byte at i of a plain dump,
// or says it is in none.
func tableAt(dump []byte, i int) string {
	copies := regexp.MustCompile(`(?m)^COPY (\S+) `).FindAllSubmatchIndex(dump[:i], -1)
	if len(copies) == 0 || bytes.Contains(dump[copies[len(copies)-1][1]:i], []byte("\n\\.\n")) {
		return "no table's data"
	}
	last := copies[len(copies)-1]
	return "table " + string(dump[last[2]:last[3]])
}

// wantKeys checks the data keys a dump holds: every key that a sealed
// value of the dump names is in customer_data_keys; an erased
// customer's rows hold no wrapped key (nor the master key's id), every
// other customer's live key is there, wrapped.
func (s *shop) wantKeys(dump []byte, erased map[*shopper]bool) {
	s.t.Helper()
	type keyRow struct {
		customer          uuid.UUID
		wrapped, masterID string
	}
	rows := map[string]keyRow{}
	for _, r := range copyRows(s.t, dump, "public.customer_data_keys") {
		id, _ := uuid.Parse(r["customer_id"])
		rows[r["key_id"]] = keyRow{customer: id, wrapped: r["wrapped_key"], masterID: r["master_key_id"]}
	}
	for _, m := range sealedValue.FindAllSubmatch(dump, -1) {
		if _, ok := rows[string(m[1])]; !ok {
			s.t.Errorf("a sealed value names key %s, which the dump lacks", m[1])
		}
	}
	live := map[uuid.UUID]int{}
	for id, r := range rows {
		if r.wrapped != `\N` {
			live[r.customer]++
		}
		if r.customer == uuid.Nil {
			s.t.Errorf("key %s: no customer", id)
		}
	}
	for _, c := range s.customers {
		for id, r := range rows {
			if r.customer == c.id && erased[c] && (r.wrapped != `\N` || r.masterID != `\N`) {
				s.t.Errorf("erased customer %s's key %s is in the dump, wrapped %s by %s", c.id, id, r.wrapped, r.masterID)
			}
		}
		if want := map[bool]int{false: 1}[erased[c]]; live[c.id] != want {
			s.t.Errorf("customer %s has %d live keys in the dump, want %d", c.id, live[c.id], want)
		}
	}
}

// copyRows reads the rows of a table's COPY in a plain dump, each as its
// columns' text (`\N` for NULL).
func copyRows(t *testing.T, dump []byte, table string) []map[string]string {
	t.Helper()
	head := regexp.MustCompile(`(?m)^COPY ` + regexp.QuoteMeta(table) + ` \(([^)]*)\) FROM stdin;\n`)
	loc := head.FindSubmatchIndex(dump)
	if loc == nil {
		t.Fatalf("the dump has no COPY of %s", table)
	}
	columns := strings.Split(string(dump[loc[2]:loc[3]]), ", ")
	body, _, found := strings.Cut(string(dump[loc[1]:]), "\\.\n")
	if !found {
		t.Fatalf("the COPY of %s does not end", table)
	}
	var rows []map[string]string
	for line := range strings.Lines(body) {
		fields := strings.Split(strings.TrimSuffix(line, "\n"), "\t")
		if len(fields) != len(columns) {
			t.Fatalf("a row of %s has %d columns, want %d: %q", table, len(fields), len(columns), line)
		}
		row := map[string]string{}
		for i, c := range columns {
			row[c] = fields[i]
		}
		rows = append(rows, row)
	}
	return rows
}
