package httpapi

import (
	"encoding/base64"
	"encoding/binary"

	"github.com/orderapi/orderapi/internal/app"
)

// A feed cursor is opaque to clients: base64url, unpadded, of a format
// byte, the transaction id and the position of the last event read (see
// app.FeedCursor). 23 characters, safe in a query string and as an SSE id.
// Its length tells it from a customer-orders cursor.
const (
	feedCursorFormat = 1
	feedCursorLen    = 1 + 8 + 8
)

func encodeFeedCursor(c app.FeedCursor) string {
	var b [feedCursorLen]byte
	b[0] = feedCursorFormat
	binary.BigEndian.PutUint64(b[1:9], c.TransactionID)
	binary.BigEndian.PutUint64(b[9:], uint64(c.Position))
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// decodeFeedCursor reverses encodeFeedCursor; it reports false for
// anything else.
func decodeFeedCursor(s string) (app.FeedCursor, bool) {
	if base64.RawURLEncoding.DecodedLen(len(s)) != feedCursorLen {
		return app.FeedCursor{}, false
	}
	b, err := base64.RawURLEncoding.Strict().DecodeString(s)
	if err != nil || len(b) != feedCursorLen || b[0] != feedCursorFormat {
		return app.FeedCursor{}, false
	}
	c := app.FeedCursor{
		TransactionID: binary.BigEndian.Uint64(b[1:9]),
		Position:      int64(binary.BigEndian.Uint64(b[9:])),
	}
	if c.Position < 0 {
		return app.FeedCursor{}, false
	}
	return c, true
}
