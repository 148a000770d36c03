package httpapi

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/orderapi/orderapi/internal/adapters/cursor"
	"github.com/orderapi/orderapi/internal/app"
	"github.com/orderapi/orderapi/internal/domain/order"
)

// testCursors signs cursors with a fixed key, as a service does with its
// database's; newAPI's servers use it.
var testCursors = newTestSigner(7)

func newTestSigner(fill byte) *cursor.Signer {
	s, err := cursor.NewSigner(bytes.Repeat([]byte{fill}, cursor.KeySize))
	if err != nil {
		panic(err)
	}
	return s
}

// unsignedCursor writes a cursor of the unsigned format 1 that the API
// issued before cursors were signed.
func unsignedCursor(payload ...[]byte) string {
	return base64.RawURLEncoding.EncodeToString(bytes.Join(append([][]byte{{1}}, payload...), nil))
}

func be64(n uint64) []byte { return binary.BigEndian.AppendUint64(nil, n) }

func TestCursorRoundTrip(t *testing.T) {
	t.Parallel()
	list := app.ListQuery{CustomerID: uuid.New(), Status: order.StatusPlaced}
	for _, c := range []app.Cursor{
		{CreatedAt: time.Date(2025, 1, 2, 3, 4, 5, 123456000, time.UTC), OrderID: uuid.New()},
		{CreatedAt: time.Unix(0, 0).UTC(), OrderID: uuid.Max},
		{CreatedAt: order.LatestTime, OrderID: uuid.New()},
	} {
		s := encodeCursor(testCursors, list, c)
		if len(s) != 55 || strings.ContainsAny(s, "+/=") {
			t.Errorf("cursor %q is not 55 URL-safe characters", s)
		}
		got, legacy, ok := decodeCursor(testCursors, list, s)
		if !ok || legacy || !got.CreatedAt.Equal(c.CreatedAt) || got.OrderID != c.OrderID || got.CreatedAt.Location() != time.UTC {
			t.Errorf("round trip of %+v = %+v, legacy %v, %v", c, got, legacy, ok)
		}
	}
}

// TestUnsignedCursorIsReadAsLegacy: a format-1 cursor decodes, marked
// for the caller to check against the store.
func TestUnsignedCursorIsReadAsLegacy(t *testing.T) {
	t.Parallel()
	at, id := time.Date(2026, 11, 26, 0, 14, 24, 930306000, time.UTC), uuid.New()
	s := unsignedCursor(be64(uint64(at.UnixMicro())), id[:])
	if len(s) != 34 {
		t.Fatalf("format-1 cursor %q is not 34 characters", s)
	}
	got, legacy, ok := decodeCursor(testCursors, app.ListQuery{CustomerID: uuid.New()}, s)
	if !ok || !legacy || !got.CreatedAt.Equal(at) || got.OrderID != id {
		t.Errorf("decodeCursor(%q) = %+v, legacy %v, %v", s, got, legacy, ok)
	}
}

func TestDecodeCursorRejectsGarbage(t *testing.T) {
	t.Parallel()
	list := app.ListQuery{CustomerID: uuid.New()}
	c := app.Cursor{CreatedAt: time.Now(), OrderID: uuid.New()}
	valid := encodeCursor(testCursors, list, c)
	raw, _ := base64.RawURLEncoding.DecodeString(valid)
	otherFormat := func() string {
		b := bytes.Clone(raw)
		b[0] = 3
		return base64.RawURLEncoding.EncodeToString(b)
	}()
	tooEarly := c
	tooEarly.CreatedAt = time.Date(1969, 12, 31, 23, 59, 59, 999999000, time.UTC)
	for name, s := range map[string]string{
		"empty": "", "garbage": "garbage", "truncated": valid[:54], "extended": valid + "A", "padded": valid[:54] + "=",
		"standard alphabet":     strings.ReplaceAll(valid, valid[:1], "+"),
		"zeros, standard":       base64.StdEncoding.EncodeToString(make([]byte, len(raw))),
		"zeros":                 base64.RawURLEncoding.EncodeToString(make([]byte, len(raw))),
		"another format":        otherFormat,
		"another customer":      encodeCursor(testCursors, app.ListQuery{CustomerID: uuid.New()}, c),
		"another status":        encodeCursor(testCursors, app.ListQuery{CustomerID: list.CustomerID, Status: order.StatusDraft}, c),
		"another key":           encodeCursor(newTestSigner(8), list, c),
		"a feed cursor":         encodeFeedCursor(testCursors, app.FeedCursor{TransactionID: 1, Position: 1}),
		"a time before 1970":    encodeCursor(testCursors, list, tooEarly),
		"format 1, year 10000":  unsignedCursor(be64(uint64(time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC).UnixMicro())), c.OrderID[:]),
		"format 1, before 1970": unsignedCursor(be64(uint64(tooEarly.CreatedAt.UnixMicro())), c.OrderID[:]),
		"format 1, too short":   unsignedCursor(be64(0)),
	} {
		if got, legacy, ok := decodeCursor(testCursors, list, s); ok {
			t.Errorf("%s: decodeCursor(%q) = %+v, legacy %v; want rejection", name, s, got, legacy)
		}
	}
}
