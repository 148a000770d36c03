package httpapi

import (
	"errors"
	"net/http/httptest"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/orderapi/orderapi/internal/adapters/httpapi/problem"
	"github.com/orderapi/orderapi/internal/app"
	"github.com/orderapi/orderapi/internal/domain/order"
)

// FuzzCursor: whatever a client sends as a cursor, neither decoder panics;
// each accepts, as signed, only the text its encoder writes for what it
// decoded, and otherwise only the unsigned format 1 (marked legacy);
// the query parsers accept exactly what the decoders accept (as cursor,
// after or Last-Event-ID), so no garbage is taken for a position; and no
// text is both kinds of cursor.
func FuzzCursor(f *testing.F) {
	list := app.ListQuery{CustomerID: uuid.MustParse("7c0e8a52-4a4e-4d7e-9d3c-2b1f6a9e0c11")}
	f.Add(encodeCursor(testCursors, list, app.Cursor{CreatedAt: time.Date(2026, 11, 26, 0, 14, 24, 930306000, time.UTC), OrderID: uuid.MustParse("7379ad0b-7ff7-4bc7-a529-45e903691baf")}))
	f.Add(encodeFeedCursor(testCursors, app.FeedCursor{TransactionID: 189575, Position: 9}))
	f.Add("AQAAAAAAAuR_AAAAAAAAAAU")
	f.Add("AQAF7fBknOXSc3mtC3_3S8elKUXpA2kbrw")
	f.Add("garbage")
	f.Fuzz(func(t *testing.T, s string) {
		c, legacy, ok := decodeCursor(testCursors, list, s)
		if ok && !legacy && (encodeCursor(testCursors, list, c) != s || c.CreatedAt.Location() != time.UTC) {
			t.Fatalf("decodeCursor(%q) = %+v, which encodes as %q", s, c, encodeCursor(testCursors, list, c))
		}
		if ok && !order.InTimeBounds(c.CreatedAt) {
			t.Fatalf("decodeCursor(%q) = %+v, out of bounds", s, c)
		}
		q, unsigned, err := listQuery(url.Values{"cursor": {s}}, list.CustomerID, testCursors)
		if (err == nil) != ok || ok && (q.After == nil || *q.After != c || unsigned != legacy) {
			t.Fatalf("cursor %q: decodes %v, listQuery = %+v, %v, %v", s, ok, q, unsigned, err)
		}
		fc, flegacy, fok := decodeFeedCursor(testCursors, s)
		if fok && (!flegacy && encodeFeedCursor(testCursors, fc) != s || fc.Position < 0) {
			t.Fatalf("decodeFeedCursor(%q) = %+v, which encodes as %q", s, fc, encodeFeedCursor(testCursors, fc))
		}
		r := httptest.NewRequest("GET", "/v1/events?"+url.Values{"after": {s}}.Encode(), nil)
		if fq, unsigned, err := feedQuery(r, testCursors); (err == nil) != fok || fok && (fq.After != fc || (unsigned != "") != flegacy) {
			t.Fatalf("after %q: decodes %v, feedQuery = %+v, %q, %v", s, fok, fq, unsigned, err)
		}
		if s != "" {
			r = httptest.NewRequest("GET", "/v1/events", nil)
			r.Header.Set("Last-Event-ID", s)
			if fq, unsigned, err := feedQuery(r, testCursors); (err == nil) != fok || fok && (fq.After != fc || (unsigned != "") != flegacy) {
				t.Fatalf("Last-Event-ID %q: decodes %v, feedQuery = %+v, %q, %v", s, fok, fq, unsigned, err)
			}
		}
		if ok && fok {
			t.Fatalf("%q decodes as both kinds of cursor", s)
		}
	})
}

// FuzzCursorRoundTrip: every position the store can hand out survives
// the trip through a cursor unchanged; a feed position below zero, which
// the store never has, and a time outside order.InTimeBounds, which no
// order has, are refused.
func FuzzCursorRoundTrip(f *testing.F) {
	f.Add(int64(0), []byte("0123456789abcdef"), uint64(0), int64(0))
	f.Add(int64(-62135596800000000), []byte{}, uint64(1<<63), int64(-1))
	f.Add(int64(1764116064930306), []byte{}, uint64(1<<63), int64(1))
	f.Fuzz(func(t *testing.T, micros int64, id []byte, txid uint64, pos int64) {
		var oid uuid.UUID
		copy(oid[:], id)
		list := app.ListQuery{CustomerID: oid, Status: order.StatusShipped}
		c := app.Cursor{CreatedAt: time.UnixMicro(micros).UTC(), OrderID: oid}
		got, legacy, ok := decodeCursor(testCursors, list, encodeCursor(testCursors, list, c))
		if ok != order.InTimeBounds(c.CreatedAt) || legacy || ok && (!got.CreatedAt.Equal(c.CreatedAt) || got.OrderID != oid) {
			t.Fatalf("cursor %+v comes back as %+v, %v, %v", c, got, legacy, ok)
		}
		fc := app.FeedCursor{TransactionID: txid, Position: pos}
		fgot, flegacy, fok := decodeFeedCursor(testCursors, encodeFeedCursor(testCursors, fc))
		if fok != (pos >= 0) || flegacy || fok && fgot != fc {
			t.Fatalf("feed cursor %+v comes back as %+v, %v, %v", fc, fgot, flegacy, fok)
		}
	})
}

var canonicalUUID = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)

// FuzzParseUUID: a path or body id is accepted exactly when it is the
// 36-character hyphenated lower-case form (braces, urn:uuid:, the
// unhyphenated form and upper case are refused), and means the UUID it
// spells; parseID also refuses the nil UUID.
func FuzzParseUUID(f *testing.F) {
	for _, s := range []string{"7379ad0b-7ff7-4bc7-a529-45e903691baf", "7379AD0B-7FF7-4BC7-A529-45E903691BAF", "{7379ad0b-7ff7-4bc7-a529-45e903691baf}",
		"urn:uuid:7379ad0b-7ff7-4bc7-a529-45e903691baf", "7379ad0b7ff74bc7a52945e903691baf", uuid.Nil.String(), "7379ad0b-7ff7-4bc7-a529-45e903691bag", "7379ad0b_7ff7-4bc7-a529-45e903691baf"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		id, err := parseUUID(s)
		if ok := canonicalUUID.MatchString(s); (err == nil) != ok {
			t.Fatalf("parseUUID(%q) = %v, %v; canonical: %v", s, id, err, ok)
		}
		if err == nil && id.String() != s {
			t.Fatalf("parseUUID(%q) = %v", s, id)
		}
		pid, perr := parseID("id", s)
		if (perr == nil) != (err == nil && id != uuid.Nil) || perr == nil && pid != id {
			t.Fatalf("parseID(%q) = %v, %v", s, pid, perr)
		}
		if perr != nil {
			checkFieldProblem(t, perr, "id")
		}
	})
}

// FuzzQueryParams: every query parser, given any query string, either
// answers values within the documented bounds or a 422 whose errors name
// only its own parameters. min_position, which every read takes, is an
// event position, 1 or more, whenever it is given. An integer taken is
// one written as it was sent: each has one spelling.
func FuzzQueryParams(f *testing.F) {
	for _, s := range []string{"", "limit=20&status=placed", "limit=0", "limit=101", "limit=-1", "limit=99999999999999999999", "limit=1e3", "limit=+5", "limit=%00",
		"cursor=garbage", "cursor=AQAAAAAAAuR_AAAAAAAAAAU", "status=lost&status=draft", "after_version=2147483648", "after_version=2147483647&limit=1000",
		"version=1", "version=0", "as_of=2025-01-02T15:04:05Z", "as_of=2025-01-02T15:04:05 01:00", "version=1&as_of=2025-01-02T15:04:05Z",
		"from=2025-01-01&to=2025-12-31", "from=2025-01-01&to=2026-01-03", "from=0001-01-01&to=0001-01-01", "from=0000-01-01&to=0000-01-02", "from=9999-12-31&to=9999-12-31", "from=2025-02-30&to=2025-01-01&currency=usd&min_position=0",
		"min_position=9223372036854775808", "min_position=42&limit=5", "min_position=0", "min_position=-1", "min_position=1&min_position=2", "type=OrderPlaced&type=OrderShipped", "type=Nope", "after=AQAAAAAAAuR_AAAAAAAAAAU&limit=1000", "%zz=1&limit=%"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		v, _ := url.ParseQuery(raw) // as r.URL.Query does: bad pairs are dropped

		if q, _, err := listQuery(v, uuid.Nil, testCursors); err != nil {
			checkFieldProblem(t, err, "status", "limit", "cursor", "min_position")
		} else if q.Limit < 1 || q.Limit > app.MaxPageSize || v.Has("cursor") != (q.After != nil) || v.Has("status") && q.Status == "" ||
			v.Has("min_position") != (q.MinPosition > 0) ||
			q.After != nil && !order.InTimeBounds(q.After.CreatedAt) {
			t.Fatalf("listQuery(%q) = %+v", raw, q)
		}

		if q, err := eventQuery(v); err != nil {
			checkFieldProblem(t, err, "after_version", "limit", "min_position")
		} else if q.Limit < 1 || q.Limit > app.MaxEventPage || q.AfterVersion < 0 || q.AfterVersion > maxVersion ||
			v.Has("min_position") != (q.MinPosition > 0) ||
			v.Has("limit") && strconv.Itoa(q.Limit) != v.Get("limit") ||
			v.Has("after_version") && strconv.Itoa(q.AfterVersion) != v.Get("after_version") ||
			v.Has("min_position") && strconv.FormatInt(q.MinPosition, 10) != v.Get("min_position") {
			t.Fatalf("eventQuery(%q) = %+v", raw, q)
		}

		r := httptest.NewRequest("GET", "/v1/events", nil)
		r.URL.RawQuery = raw
		if q, _, err := feedQuery(r, testCursors); err != nil {
			checkFieldProblem(t, err, "after", "limit", "type", "min_position")
		} else if q.Limit < 1 || q.Limit > app.MaxFeedPage || q.After.Position < 0 || slices.ContainsFunc(q.Types, func(s string) bool { return !order.KnownEventType(s) }) ||
			v.Has("min_position") != (q.MinPosition > 0) {
			t.Fatalf("feedQuery(%q) = %+v", raw, q)
		}

		if _, past, err := pointInTime(v); err != nil {
			checkFieldProblem(t, err, "version", "as_of")
		} else if past != (v.Has("version") || v.Has("as_of")) {
			t.Fatalf("pointInTime(%q): past %v", raw, past)
		}

		if q, err := analyticsQuery(v); err != nil {
			checkFieldProblem(t, err, "from", "to", "currency", "min_position")
		} else if q.From.IsZero() || q.To.Before(q.From) || q.To.Sub(q.From) > app.MaxAnalyticsDays*24*time.Hour || q.MinPosition < 0 ||
			!order.InTimeBounds(q.From) || !order.InTimeBounds(q.To) {
			t.Fatalf("analyticsQuery(%q) = %+v", raw, q)
		}
	})
}

// checkFieldProblem fails unless err is answered as a 422 naming only the
// given fields, each with a code and a message.
func checkFieldProblem(t *testing.T, err error, fields ...string) {
	t.Helper()
	var oe *order.Error
	if !errors.As(err, &oe) || oe.Kind != order.KindInvalid {
		t.Fatalf("%v (%T) is not an invalid-field error", err, err)
	}
	p, internal := problem.From(err)
	if internal || p.Status != 422 || len(p.Errors) == 0 {
		t.Fatalf("%v is answered %+v", err, p)
	}
	for _, fp := range p.Errors {
		if !slices.Contains(fields, fp.Field) || fp.Code == "" || fp.Message == "" {
			t.Fatalf("field problem %+v; want one of %v", fp, fields)
		}
	}
}
