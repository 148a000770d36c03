package httpapi

import (
	"encoding/base64"
	"encoding/binary"
	"time"

	"github.com/google/uuid"
	"github.com/orderapi/orderapi/internal/adapters/cursor"
	"github.com/orderapi/orderapi/internal/app"
	"github.com/orderapi/orderapi/internal/domain/order"
)

// The purposes of the API's cursors: one of a customer's orders list is
// never taken for a place in the feed, nor the other way round.
const (
	purposeOrders cursor.Purpose = 1
	purposeFeed   cursor.Purpose = 2
)

// A customer-orders cursor (next_cursor of a customer's orders) is a
// signed cursor (package cursor) whose payload is the keyset position:
// the order's creation time in Unix microseconds (the store's precision)
// and its id. It is signed for the customer and the status filter of the
// list it continues, so it is refused for any other list. 55 characters,
// safe in a query string.
const cursorPayloadLen = 8 + 16

func encodeCursor(s *cursor.Signer, q app.ListQuery, c app.Cursor) string {
	var b [cursorPayloadLen]byte
	binary.BigEndian.PutUint64(b[:8], uint64(c.CreatedAt.UnixMicro()))
	copy(b[8:], c.OrderID[:])
	return s.Sign(purposeOrders, listScope(q), b[:])
}

// decodeCursor reverses encodeCursor for the list q asks for. It also
// reads the unsigned format 1 that was issued before cursors were signed
// (legacy is then true): such a cursor proves nothing, so the caller takes
// it only if it names an order of the customer. ok is false for any other
// text, and for a time outside order.InTimeBounds, which no order has.
func decodeCursor(s *cursor.Signer, q app.ListQuery, text string) (c app.Cursor, legacy, ok bool) {
	b, err := s.Verify(purposeOrders, listScope(q), text, cursorPayloadLen)
	if err != nil {
		b, legacy = unsignedPayload(text, cursorPayloadLen)
		if !legacy {
			return app.Cursor{}, false, false
		}
	}
	c = app.Cursor{CreatedAt: time.UnixMicro(int64(binary.BigEndian.Uint64(b[:8]))).UTC(), OrderID: uuid.UUID(b[8:])}
	if !order.InTimeBounds(c.CreatedAt) {
		return app.Cursor{}, false, false
	}
	return c, legacy, true
}

// listScope is what a customer-orders cursor is signed for: the customer
// (16 bytes) and the status filter ("" for none).
func listScope(q app.ListQuery) []byte {
	return append(q.CustomerID[:], q.Status...)
}

// notIssued is the problem of a cursor this API did not issue for the
// query it came with, in the words of the field that carried it.
func notIssued(field string) error {
	msg := "is not a cursor this API issued for this customer and status; use next_cursor as given"
	switch field {
	case "after":
		msg = "is not a feed cursor this API issued; use next_cursor or an event's id as given"
	case "Last-Event-ID":
		msg = "is not an event id of this feed; send the id of the last event received"
	}
	return order.Invalid(field, order.FieldBadFormat, msg)
}

// trustUnsigned judges a cursor of the unsigned format 1 by whether it
// names something stored, as every cursor issued in that format did: it
// is refused as not issued (field names it) when it names nothing.
func trustUnsigned(field string) func(exists bool, err error) error {
	return func(exists bool, err error) error {
		if err == nil && !exists {
			err = notIssued(field)
		}
		return err
	}
}

// unsignedFormat is the first byte of the cursors issued before they were
// signed: base64url, unpadded, of that byte and the payload.
const unsignedFormat = 1

// unsignedPayload reads a format-1 cursor of a payload of size bytes; ok
// is false for anything else.
func unsignedPayload(text string, size int) (payload []byte, ok bool) {
	if base64.RawURLEncoding.EncodedLen(1+size) != len(text) {
		return nil, false
	}
	b, err := base64.RawURLEncoding.Strict().DecodeString(text)
	if err != nil || len(b) != 1+size || b[0] != unsignedFormat {
		return nil, false
	}
	return b[1:], true
}
