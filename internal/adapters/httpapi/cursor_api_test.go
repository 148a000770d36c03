package httpapi

import (
	"context"
	"encoding/base64"
	"net/http"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/orderapi/orderapi/internal/app"
)

// ordersPage gets one page of a customer's orders, or fails the test.
func (a *testAPI) ordersPage(customer, query string) orderPageJSON {
	a.t.Helper()
	var page orderPageJSON
	decodeStrict(a.t, a.do("GET", "/v1/customers/"+customer+"/orders"+query, nil).want(a.t, http.StatusOK).Body, &page)
	return page
}

// wantFieldProblem fails the test unless the reply is a 422 naming
// exactly the field.
func wantFieldProblem(t *testing.T, r reply, field string) {
	t.Helper()
	p := r.wantProblem(t, http.StatusUnprocessableEntity, "validation_failed")
	if len(p.Errors) != 1 || p.Errors[0].Field != field {
		t.Errorf("errors = %+v, want one naming %s", p.Errors, field)
	}
}

// tamper flips a bit of a cursor's payload.
func tamper(s string) string {
	b, _ := base64.RawURLEncoding.DecodeString(s)
	b[5] ^= 1
	return base64.RawURLEncoding.EncodeToString(b)
}

// TestCursorsAreValidOnlyWhereIssued: a customer-orders cursor continues
// the list it was issued for; another customer's list, another status
// filter, a tampered or forged cursor, and one issued by another
// deployment (another database, another key) are 422 naming cursor; so
// is a time no order can have, which used to reach the database.
func TestCursorsAreValidOnlyWhereIssued(t *testing.T) {
	t.Parallel()
	a := newAPI(t)
	foreign := newAPI(t, func(c *Config) { c.Cursors = newTestSigner(8) })
	// Given a customer with three orders, and another customer
	customer, other := uuid.NewString(), uuid.NewString()
	for range 3 {
		a.create(uuid.MustParse(customer))
		foreign.create(uuid.MustParse(customer))
	}
	next := *a.ordersPage(customer, "?limit=1").NextCursor
	drafts := *a.ordersPage(customer, "?limit=1&status=draft").NextCursor
	foreignNext := *foreign.ordersPage(customer, "?limit=1").NextCursor

	// Then each cursor continues its own list
	if page := a.ordersPage(customer, "?limit=1&cursor="+next); len(page.Orders) != 1 {
		t.Fatalf("next page: %+v", page)
	}
	a.ordersPage(customer, "?limit=1&status=draft&cursor="+drafts)
	foreign.ordersPage(customer, "?limit=1&cursor="+foreignNext)

	// And is refused anywhere else
	forged := encodeCursor(newTestSigner(9), app.ListQuery{CustomerID: uuid.MustParse(customer)}, app.Cursor{CreatedAt: time.Now(), OrderID: uuid.New()})
	year10000 := unsignedCursor(be64(uint64(time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC).UnixMicro())), make([]byte, 16))
	// Year 194930 BC: beyond PostgreSQL's timestamps, a 500 once.
	farPast := int64(-6_213_559_680_000_000_000)
	before1970 := unsignedCursor(be64(uint64(farPast)), make([]byte, 16))
	for name, query := range map[string]string{
		"another customer's list":     "/v1/customers/" + other + "/orders?cursor=" + next,
		"another status filter":       "/v1/customers/" + customer + "/orders?status=draft&cursor=" + next,
		"no status filter":            "/v1/customers/" + customer + "/orders?cursor=" + drafts,
		"tampered":                    "/v1/customers/" + customer + "/orders?cursor=" + tamper(next),
		"forged with another key":     "/v1/customers/" + customer + "/orders?cursor=" + forged,
		"from another database":       "/v1/customers/" + customer + "/orders?cursor=" + foreignNext,
		"a feed cursor":               "/v1/customers/" + customer + "/orders?cursor=" + a.feedPage("").NextCursor,
		"format 1 in the year 10000":  "/v1/customers/" + customer + "/orders?cursor=" + year10000,
		"format 1 before 1970":        "/v1/customers/" + customer + "/orders?cursor=" + before1970,
		"format 1 naming no order":    "/v1/customers/" + customer + "/orders?cursor=" + unsignedCursor(be64(uint64(time.Now().UnixMicro())), make([]byte, 16)),
		"format 1, the zero position": "/v1/customers/" + customer + "/orders?cursor=" + unsignedCursor(be64(0), make([]byte, 16)),
	} {
		t.Run(name, func(t *testing.T) {
			wantFieldProblem(t, a.do("GET", query, nil), "cursor")
		})
	}
}

// TestFeedCursorsAreValidOnlyWhereIssued: a feed cursor, as after or as
// Last-Event-ID, is refused (422 naming the field) when it is tampered,
// forged, issued by another deployment, or of the unsigned format 1 but
// naming no event: a well-formed cursor nobody issued would otherwise be
// an empty page forever, and another database's would skip events.
func TestFeedCursorsAreValidOnlyWhereIssued(t *testing.T) {
	t.Parallel()
	a := newAPI(t)
	foreign := newAPI(t, func(c *Config) { c.Cursors = newTestSigner(8) })
	a.create(uuid.New())
	foreign.create(uuid.New())
	_, mine := a.walkFeed("", nil, 1)
	theirs := foreign.feedPage("").NextCursor
	if page := a.feedPage("?after=" + mine); len(page.Events) != 0 || page.NextCursor != mine {
		t.Fatalf("after the end: %+v", page)
	}

	neverIssued := unsignedCursor(be64(1<<40), be64(999999))
	for name, cursor := range map[string]string{
		"tampered":               tamper(mine),
		"forged":                 encodeFeedCursor(newTestSigner(9), app.FeedCursor{TransactionID: 1, Position: 1}),
		"from another database":  theirs,
		"format 1, never issued": neverIssued,
		"format 1, the largest":  unsignedCursor(be64(1<<64-1), be64(1<<63-1)),
	} {
		t.Run(name, func(t *testing.T) {
			wantFieldProblem(t, a.do("GET", "/v1/events?after="+cursor, nil), "after")
			wantFieldProblem(t, a.do("GET", "/v1/events", nil, "Last-Event-ID", cursor), "Last-Event-ID")
			wantFieldProblem(t, a.do("GET", "/v1/events", nil, "Last-Event-ID", cursor, "Accept", "text/event-stream"), "Last-Event-ID")
		})
	}
}

// TestUnsignedCursorsOfStoredPlacesStillWork: clients hold cursors of the
// unsigned format 1 from before cursors were signed, and live feeds
// reconnect with such an id. One that names what is stored (an event; an
// order of that customer; the feed's start) is taken as it was, and
// continues exactly where its signed equal does.
func TestUnsignedCursorsOfStoredPlacesStillWork(t *testing.T) {
	t.Parallel()
	a := newAPI(t)
	customer := uuid.New()
	var orders []string
	for range 3 {
		orders = append(orders, a.create(customer).ID)
	}

	t.Run("a customer's orders", func(t *testing.T) {
		// Given the format-1 cursor of the customer's newest order
		var createdAt time.Time
		if err := a.pool.QueryRow(context.Background(), `SELECT created_at FROM customer_orders WHERE order_id = $1`, orders[2]).Scan(&createdAt); err != nil {
			t.Fatal(err)
		}
		id := uuid.MustParse(orders[2])
		legacy := unsignedCursor(be64(uint64(createdAt.UnixMicro())), id[:])
		signed := *a.ordersPage(customer.String(), "?limit=1").NextCursor
		// Then it continues as the signed one does, for that customer only
		got, want := a.ordersPage(customer.String(), "?limit=5&cursor="+legacy), a.ordersPage(customer.String(), "?limit=5&cursor="+signed)
		if len(got.Orders) != 2 || got.Orders[0].ID != want.Orders[0].ID || got.Orders[1].ID != orders[0] {
			t.Errorf("after a format-1 cursor: %+v; after the signed one: %+v", got, want)
		}
		wantFieldProblem(t, a.do("GET", "/v1/customers/"+uuid.NewString()+"/orders?cursor="+legacy, nil), "cursor")
	})

	t.Run("the feed", func(t *testing.T) {
		// Given the format-1 cursor of the first event, and of the start
		var txid, position int64
		if err := a.pool.QueryRow(context.Background(),
			`SELECT transaction_id::text::bigint, position FROM events ORDER BY transaction_id, position LIMIT 1`).Scan(&txid, &position); err != nil {
			t.Fatal(err)
		}
		legacy := unsignedCursor(be64(uint64(txid)), be64(uint64(position)))
		all, _ := a.walkFeed("", nil, len(orders))
		// Then the page after it is the feed after its first event, and
		// its next_cursor is signed
		page := a.feedPage("?after=" + legacy)
		if len(page.Events) != len(all)-1 || page.Events[0].EventID != all[1].EventID {
			t.Errorf("after a format-1 cursor: %d events, want %d", len(page.Events), len(all)-1)
		}
		if _, unsigned, ok := decodeFeedCursor(testCursors, page.NextCursor); !ok || unsigned {
			t.Errorf("next_cursor %q is not signed", page.NextCursor)
		}
		if start := a.feedPage("?after=" + unsignedCursor(be64(0), be64(0))); len(start.Events) != len(all) {
			t.Errorf("after the format-1 start: %d events, want %d", len(start.Events), len(all))
		}
		// And a live feed reconnecting with it resumes right after it
		s := a.openStream("", "Last-Event-ID", legacy)
		if _, e := s.nextEvent(feedWait); e.EventID != all[1].EventID {
			t.Errorf("the live feed resumed at %s, want %s", e.EventID, all[1].EventID)
		}
	})
}
