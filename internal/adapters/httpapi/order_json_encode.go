package httpapi

import (
	"net/http"
	"strconv"
	"unicode/utf8"

	"github.com/orderapi/orderapi/internal/domain/order"
)

// writeOrder answers with the order document. Every read and command
// answers with one, so it is written by hand rather than by
// encoding/json's reflection, which took a tenth of a read's CPU; the
// bytes are json.Marshal's, as a test checks.
func writeOrder(w http.ResponseWriter, status int, o order.Order) {
	doc := toOrderJSON(o)
	body := doc.appendJSON(make([]byte, 0, 512+256*len(doc.Items)))
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// appendJSON appends the document as json.Marshal writes it: the fields
// in their order, nil pointers as null.
func (d *orderJSON) appendJSON(b []byte) []byte {
	b = append(b, `{"id":`...)
	b = appendJSONString(b, d.ID)
	b = append(b, `,"customer_id":`...)
	b = appendJSONString(b, d.CustomerID)
	b = append(b, `,"status":`...)
	b = appendJSONString(b, d.Status)
	b = append(b, `,"currency":`...)
	b = appendJSONString(b, d.Currency)
	b = append(b, `,"items":`...)
	if d.Items == nil {
		b = append(b, "null"...)
	} else {
		b = append(b, '[')
		for i := range d.Items {
			if i > 0 {
				b = append(b, ',')
			}
			b = d.Items[i].appendJSON(b)
		}
		b = append(b, ']')
	}
	b = append(b, `,"item_count":`...)
	b = strconv.AppendInt(b, d.ItemCount, 10)
	b = append(b, `,"total":`...)
	b = appendJSONString(b, d.Total)
	b = append(b, `,"shipping_address":`...)
	if a := d.ShippingAddress; a == nil {
		b = append(b, "null"...)
	} else {
		b = a.appendJSON(b)
	}
	b = append(b, `,"tracking_number":`...)
	b = appendJSONOptional(b, d.TrackingNumber)
	b = append(b, `,"carrier":`...)
	b = appendJSONOptional(b, d.Carrier)
	b = append(b, `,"signature":`...)
	b = appendJSONOptional(b, d.Signature)
	b = append(b, `,"cancel_reason":`...)
	b = appendJSONOptional(b, d.CancelReason)
	b = append(b, `,"cancelled_by":`...)
	b = appendJSONOptional(b, d.CancelledBy)
	b = append(b, `,"version":`...)
	b = strconv.AppendInt(b, int64(d.Version), 10)
	b = append(b, `,"allowed_actions":`...)
	if d.AllowedActions == nil {
		b = append(b, "null"...)
	} else {
		b = append(b, '[')
		for i, a := range d.AllowedActions {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendJSONString(b, a)
		}
		b = append(b, ']')
	}
	b = append(b, `,"created_at":`...)
	b = appendJSONString(b, d.CreatedAt)
	b = append(b, `,"updated_at":`...)
	b = appendJSONString(b, d.UpdatedAt)
	b = append(b, `,"placed_at":`...)
	b = appendJSONOptional(b, d.PlacedAt)
	b = append(b, `,"shipped_at":`...)
	b = appendJSONOptional(b, d.ShippedAt)
	b = append(b, `,"delivered_at":`...)
	b = appendJSONOptional(b, d.DeliveredAt)
	b = append(b, `,"cancelled_at":`...)
	b = appendJSONOptional(b, d.CancelledAt)
	if d.Erased {
		b = append(b, `,"erased":true`...)
	}
	return append(b, '}')
}

func (it *itemJSON) appendJSON(b []byte) []byte {
	b = append(b, `{"product_id":`...)
	b = appendJSONString(b, it.ProductID)
	b = append(b, `,"product_name":`...)
	b = appendJSONString(b, it.ProductName)
	b = append(b, `,"quantity":`...)
	b = strconv.AppendInt(b, it.Quantity, 10)
	b = append(b, `,"unit_price":`...)
	b = appendJSONString(b, it.UnitPrice)
	b = append(b, `,"line_total":`...)
	b = appendJSONString(b, it.LineTotal)
	return append(b, '}')
}

func (a *addressJSON) appendJSON(b []byte) []byte {
	b = append(b, `{"name":`...)
	b = appendJSONString(b, a.Name)
	b = append(b, `,"line1":`...)
	b = appendJSONString(b, a.Line1)
	b = append(b, `,"line2":`...)
	b = appendJSONOptional(b, a.Line2)
	b = append(b, `,"city":`...)
	b = appendJSONString(b, a.City)
	b = append(b, `,"region":`...)
	b = appendJSONOptional(b, a.Region)
	b = append(b, `,"postal_code":`...)
	b = appendJSONString(b, a.PostalCode)
	b = append(b, `,"country":`...)
	b = appendJSONString(b, a.Country)
	return append(b, '}')
}

func appendJSONOptional(b []byte, s *string) []byte {
	if s == nil {
		return append(b, "null"...)
	}
	return appendJSONString(b, *s)
}

// appendJSONString quotes s as json.Marshal does: <, > and & escaped for
// HTML, U+2028 and U+2029 for JavaScript, control characters as \b, \f,
// \n, \r, \t or \u00XX, and each byte of invalid UTF-8 replaced by
// U+FFFD.
func appendJSONString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			b = append(b, s[start:i]...)
			b = append(b, "\ufffd"...)
		case r == '\u2028' || r == '\u2029':
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hex[r&0xf])
		default:
			i += size
			continue
		}
		i += size
		start = i
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
