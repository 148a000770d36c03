package httpapi

import (
	"encoding/binary"

	"github.com/orderapi/orderapi/internal/adapters/cursor"
	"github.com/orderapi/orderapi/internal/app"
)

// A feed cursor (next_cursor, a live feed's event id, a projection's
// position) is a signed cursor (package cursor) whose payload is the
// transaction id and the position of the last event read (see
// app.FeedCursor). 44 characters, safe in a query string and as an SSE id.
// It holds no query: it is a place in the whole feed, whatever types a
// page was filtered by.
const feedCursorPayloadLen = 8 + 8

func encodeFeedCursor(s *cursor.Signer, c app.FeedCursor) string {
	var b [feedCursorPayloadLen]byte
	binary.BigEndian.PutUint64(b[:8], c.TransactionID)
	binary.BigEndian.PutUint64(b[8:], uint64(c.Position))
	return s.Sign(purposeFeed, nil, b[:])
}

// decodeFeedCursor reverses encodeFeedCursor. It also reads the unsigned
// format 1 that was issued before cursors were signed (legacy is then
// true), which the caller takes only if it names a stored event or the
// start. ok is false for any other text, and for a negative position.
func decodeFeedCursor(s *cursor.Signer, text string) (c app.FeedCursor, legacy, ok bool) {
	b, err := s.Verify(purposeFeed, nil, text, feedCursorPayloadLen)
	if err != nil {
		b, legacy = unsignedPayload(text, feedCursorPayloadLen)
		if !legacy {
			return app.FeedCursor{}, false, false
		}
	}
	c = app.FeedCursor{TransactionID: binary.BigEndian.Uint64(b[:8]), Position: int64(binary.BigEndian.Uint64(b[8:]))}
	if c.Position < 0 {
		return app.FeedCursor{}, false, false
	}
	return c, legacy, true
}
