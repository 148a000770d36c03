package httpapi

import (
	"encoding/base64"
	"encoding/binary"
	"time"

	"github.com/google/uuid"
	"github.com/orderapi/orderapi/internal/app"
)

// A cursor is opaque to clients: base64url, unpadded, of a format byte, the
// keyset position's creation time in Unix microseconds (the store's
// precision) and its order id. 34 characters, safe in a query string.
// The format byte lets a later layout be told from this one.
const (
	cursorFormat = 1
	cursorLen    = 1 + 8 + 16
)

func encodeCursor(c app.Cursor) string {
	var b [cursorLen]byte
	b[0] = cursorFormat
	binary.BigEndian.PutUint64(b[1:9], uint64(c.CreatedAt.UnixMicro()))
	copy(b[9:], c.OrderID[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// decodeCursor reverses encodeCursor; it reports false for anything else,
// whatever the client made of the text.
func decodeCursor(s string) (app.Cursor, bool) {
	if base64.RawURLEncoding.DecodedLen(len(s)) != cursorLen {
		return app.Cursor{}, false
	}
	b, err := base64.RawURLEncoding.Strict().DecodeString(s)
	if err != nil || len(b) != cursorLen || b[0] != cursorFormat {
		return app.Cursor{}, false
	}
	micros := int64(binary.BigEndian.Uint64(b[1:9]))
	id, err := uuid.FromBytes(b[9:])
	if err != nil {
		return app.Cursor{}, false
	}
	return app.Cursor{CreatedAt: time.UnixMicro(micros).UTC(), OrderID: id}, true
}
