package httpapi

import (
	"encoding/base64"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/orderapi/orderapi/internal/app"
)

func TestCursorRoundTrip(t *testing.T) {
	t.Parallel()
	for _, c := range []app.Cursor{
		{CreatedAt: time.Date(2025, 1, 2, 3, 4, 5, 123456000, time.UTC), OrderID: uuid.New()},
		{CreatedAt: time.Unix(0, 0).UTC(), OrderID: uuid.Max},
		{CreatedAt: time.Date(1969, 12, 31, 23, 59, 59, 999999000, time.UTC), OrderID: uuid.New()},
	} {
		s := encodeCursor(c)
		if len(s) != 34 || strings.ContainsAny(s, "+/=") {
			t.Errorf("cursor %q is not 34 URL-safe characters", s)
		}
		got, ok := decodeCursor(s)
		if !ok || !got.CreatedAt.Equal(c.CreatedAt) || got.OrderID != c.OrderID || got.CreatedAt.Location() != time.UTC {
			t.Errorf("round trip of %+v = %+v, %v", c, got, ok)
		}
	}
}

func TestDecodeCursorRejectsGarbage(t *testing.T) {
	t.Parallel()
	valid := encodeCursor(app.Cursor{CreatedAt: time.Now(), OrderID: uuid.New()})
	otherFormat := func() string {
		b, _ := base64.RawURLEncoding.DecodeString(valid)
		b[0] = 2
		return base64.RawURLEncoding.EncodeToString(b)
	}()
	for _, s := range []string{
		"", "garbage", valid[:33], valid + "A", valid[:33] + "=", strings.ReplaceAll(valid, valid[:1], "+"),
		base64.StdEncoding.EncodeToString(make([]byte, cursorLen)), otherFormat,
		base64.RawURLEncoding.EncodeToString(make([]byte, cursorLen)),
	} {
		if c, ok := decodeCursor(s); ok {
			t.Errorf("decodeCursor(%q) = %+v, want rejection", s, c)
		}
	}
}
