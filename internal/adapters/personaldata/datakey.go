package personaldata

import (
	"bytes"
	"context"
	"crypto/cipher"
	"errors"
	"fmt"
	"sync"

	"github.com/go-json-experiment/json/jsontext"
	"github.com/google/uuid"
)

// DataKey is one customer's key, unwrapped: it seals and opens that
// customer's personal data.
type DataKey struct {
	ID         uuid.UUID
	CustomerID uuid.UUID
	aead       cipher.AEAD
}

// DataKeySize is the size of a data key: AES-256.
const DataKeySize = 32

// newDataKey returns the key of the given bytes.
func newDataKey(id, customerID uuid.UUID, key []byte) (*DataKey, error) {
	if len(key) != DataKeySize {
		return nil, fmt.Errorf("data key %s: %d bytes, want %d", id, len(key), DataKeySize)
	}
	aead, err := newAEAD(key)
	if err != nil {
		return nil, err
	}
	return &DataKey{ID: id, CustomerID: customerID, aead: aead}, nil
}

// Seal returns plain sealed for place (what names where the value lives:
// see Place), as text that names the key: the key's id, a dot, and the
// sealed bytes in unpadded standard base64. A record may so hold values
// sealed under different keys of its customer (before and after an
// erasure), and each opens with its own.
func (k *DataKey) Seal(plain []byte, place string) string {
	return string(k.appendSealed(nil, plain, place))
}

// appendSealed appends to dst what Seal returns.
func (k *DataKey) appendSealed(dst, plain []byte, place string) []byte {
	var id [36]byte
	uuidText(&id, k.ID)
	dst = append(append(dst, id[:]...), '.')
	return b64.AppendEncode(dst, seal(k.aead, plain, []byte(place)))
}

// uuidText writes id as text, as uuid.UUID.String does, without
// allocating.
func uuidText(dst *[36]byte, id uuid.UUID) {
	const hex = "0123456789abcdef"
	j := 0
	for i, b := range id {
		if i == 4 || i == 6 || i == 8 || i == 10 {
			dst[j] = '-'
			j++
		}
		dst[j], dst[j+1] = hex[b>>4], hex[b&0xf]
		j += 2
	}
}

// Open returns what Seal sealed for the same place; ErrNotOpened if it
// was sealed for another place, under another key, or not at all.
func (k *DataKey) Open(sealed, place string) ([]byte, error) {
	id, body, ok := splitSealed(sealed)
	if !ok || id != k.ID {
		return nil, ErrNotOpened
	}
	return k.openBody(body, place)
}

// openBody opens the sealed bytes of sealed text, in base64.
func (k *DataKey) openBody(body, place string) ([]byte, error) {
	raw, err := b64.AppendDecode(nil, []byte(body))
	if err != nil {
		return nil, ErrNotOpened
	}
	return open(k.aead, raw, []byte(place))
}

// LooksSealed reports whether text has the form of sealed text: a key id,
// a dot, and base64. Text written in clear before sealing began could
// only look so by design; it then fails to open (or reads as erased).
func LooksSealed(text string) bool {
	_, body, ok := splitSealed(text)
	return ok && decodes(body)
}

// decodes reports whether b64 decodes text, without decoding it: every
// character is of its alphabet, or a line break, which it skips, and the
// last group of four has two characters at least.
func decodes(text string) bool {
	n := 0
	for i := 0; i < len(text); i++ {
		switch c := text[i]; {
		case 'A' <= c && c <= 'Z', 'a' <= c && c <= 'z', '0' <= c && c <= '9', c == '+', c == '/':
			n++
		case c != '\r' && c != '\n':
			return false
		}
	}
	return n%4 != 1
}

// splitSealed splits sealed text into its key's id and the sealed bytes.
func splitSealed(sealed string) (id uuid.UUID, body string, ok bool) {
	const idLen = 36
	if len(sealed) <= idLen || sealed[idLen] != '.' {
		return uuid.UUID{}, "", false
	}
	id, err := uuid.Parse(sealed[:idLen])
	return id, sealed[idLen+1:], err == nil
}

// Place is the associated data of a sealed field: the kind of record
// that holds it (an event, a row of a read model, a snapshot), the
// record's id, and the field's name. A value copied anywhere else does
// not open.
func Place(kind, record, field string) string {
	return "orderapi/" + kind + "/" + record + "/" + field
}

// SealMembers returns the JSON object obj with the value of each member
// named in fields sealed (see Seal) with the key keyFor gives that field,
// replaced by a JSON string of the sealed text. Absent and null members
// stay as they are; a member whose key keyFor finds destroyed (nil, nil)
// becomes null. sealed reports whether any member was sealed. place gives
// the associated data of each field.
func SealMembers(obj []byte, fields []string, keyFor func(field string) (*DataKey, error), place func(field string) string) (out []byte, sealed bool, err error) {
	out, err = rewriteMembers(obj, fields, false, func(name string, v jsontext.Value) (jsontext.Value, error) {
		if v.Kind() == 'n' {
			return v, nil
		}
		k, err := keyFor(name)
		if err != nil || k == nil {
			return jsontext.Value("null"), err
		}
		sealed = true
		// Sealed text needs no escaping: a key id, a dot and base64.
		quoted := append(k.appendSealed([]byte{'"'}, v, place(name)), '"')
		return quoted, nil
	})
	return out, sealed, err
}

// OpenMembers returns the JSON object obj with each member named in
// fields opened (SealMembers undone), each with the key its text names.
// Where a key was destroyed, its customer's personal data having been
// erased, the member is null instead and erased is true; then every named
// member absent from obj is added as null too, so that a reader sees that
// nothing more is to be known of it.
func (r *Keyring) OpenMembers(ctx context.Context, obj []byte, fields []string, place func(field string) string) (out []byte, erased bool, err error) {
	out, err = rewriteMembers(obj, fields, false, func(name string, v jsontext.Value) (jsontext.Value, error) {
		if v.Kind() == 'n' {
			return v, nil
		}
		if v.Kind() != '"' {
			return nil, fmt.Errorf("%s: %w: not a sealed value", name, ErrNotOpened)
		}
		s, err := unquote(v)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		plain, err := r.Open(ctx, s, place(name))
		if errors.Is(err, ErrErased) {
			erased = true
			return jsontext.Value("null"), nil
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		return plain, nil
	})
	if err == nil && erased {
		out, err = rewriteMembers(out, fields, true, func(_ string, v jsontext.Value) (jsontext.Value, error) { return v, nil })
	}
	return out, erased, err
}

// Open opens one sealed value with the key it names; ErrErased if that
// key was destroyed.
func (r *Keyring) Open(ctx context.Context, sealed, place string) ([]byte, error) {
	id, body, ok := splitSealed(sealed)
	if !ok {
		return nil, ErrNotOpened
	}
	k, err := r.Key(ctx, id)
	if err != nil {
		return nil, err
	}
	return k.openBody(body, place)
}

// SealedKeys calls found with the id of the key each sealed member named
// in fields names, and returns how many there were.
func SealedKeys(obj []byte, fields []string, found func(field string, key uuid.UUID)) (int, error) {
	n := 0
	_, err := rewriteMembers(obj, fields, false, func(name string, v jsontext.Value) (jsontext.Value, error) {
		if v.Kind() != '"' {
			return v, nil
		}
		s, err := unquote(v)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		id, _, ok := splitSealed(s)
		if !ok {
			return nil, fmt.Errorf("%s: %w: not a sealed value", name, ErrNotOpened)
		}
		found(name, id)
		n++
		return v, nil
	})
	return n, err
}

// NullMembers returns the JSON object obj with each member named in
// fields set to null, added where absent: how an erased record reads.
func NullMembers(obj []byte, fields []string) ([]byte, error) {
	return rewriteMembers(obj, fields, true, func(string, jsontext.Value) (jsontext.Value, error) {
		return jsontext.Value("null"), nil
	})
}

// unquote returns the text of a JSON string.
func unquote(v jsontext.Value) (string, error) {
	if bytes.IndexByte(v, '\\') < 0 && len(v) >= 2 {
		// No escapes: the text between the quotes, which the decoder
		// checked.
		return string(v[1 : len(v)-1]), nil
	}
	b, err := jsontext.AppendUnquote(nil, v)
	return string(b), err
}

// members reads JSON objects for rewriteMembers: a decoder kept between
// uses, over a buffer that is the object itself (jsontext reads a
// bytes.Buffer's bytes in place).
type members struct {
	buf bytes.Buffer
	dec jsontext.Decoder
}

var membersPool = sync.Pool{New: func() any { return new(members) }}

// rewriteMembers copies the JSON object obj, passing the value of each
// member named in fields through f, and leaving the member out where f
// gives none (nil); with addMissing, a named member that obj lacks is
// added with f's value of null. Every other byte of the object is copied
// as it is: only the values f is given change. The whole object is read
// as jsontext reads it (valid UTF-8, no duplicate names).
func rewriteMembers(obj []byte, fields []string, addMissing bool, f func(name string, v jsontext.Value) (jsontext.Value, error)) ([]byte, error) {
	m := membersPool.Get().(*members)
	defer func() {
		m.buf = bytes.Buffer{}
		membersPool.Put(m)
	}()
	m.buf = *bytes.NewBuffer(obj)
	dec := &m.dec
	dec.Reset(&m.buf)
	if tok, err := dec.ReadToken(); err != nil || tok.Kind() != '{' {
		return nil, fmt.Errorf("rewrite members: not a JSON object")
	}
	var (
		out  = make([]byte, 0, len(obj)+64)
		from = int(dec.InputOffset()) - 1 // obj[from:] is still to copy, from the object's '{'
		prev = from + 1                   // where the member read last ends: a comma may follow
		seen = make([]bool, len(fields))
		kept int // members out has, or will have once obj[from:] is copied
		// dropComma: every member before obj[from:] was left out, so the
		// comma that starts it has no member before it.
		dropComma bool
	)
	copyTo := func(end int) {
		seg := obj[from:end]
		if dropComma {
			if t := bytes.TrimLeft(seg, " \t\r\n"); len(t) > 0 && t[0] == ',' {
				seg, dropComma = t[1:], false
			}
		}
		out = append(out, seg...)
	}
	for dec.PeekKind() != '}' {
		name, err := dec.ReadValue()
		if err != nil {
			return nil, fmt.Errorf("rewrite members: %w", err)
		}
		i := memberIndex(fields, name)
		v, err := dec.ReadValue()
		if err != nil {
			return nil, fmt.Errorf("rewrite members: %w", err)
		}
		end := int(dec.InputOffset())
		start := end - len(v)
		if i < 0 {
			kept++
			prev = end
			continue
		}
		seen[i] = true
		// v is valid until the decoder reads on.
		if v, err = f(fields[i], v); err != nil {
			return nil, err
		}
		if v == nil {
			// Out, with the comma before it: what follows it keeps its own.
			copyTo(prev)
			dropComma = dropComma || kept == 0
			from, prev = end, end
			continue
		}
		kept++
		copyTo(start)
		out = append(out, v...)
		from, prev = end, end
	}
	if _, err := dec.ReadToken(); err != nil {
		return nil, fmt.Errorf("rewrite members: %w", err)
	}
	copyTo(int(dec.InputOffset()) - 1) // up to the object's '}'
	for i, name := range fields {
		if seen[i] || !addMissing {
			continue
		}
		v, err := f(name, jsontext.Value("null"))
		if err != nil {
			return nil, err
		}
		if kept > 0 {
			out = append(out, ',')
		}
		kept++
		out, _ = jsontext.AppendQuote(out, name)
		out = append(append(out, ':'), v...)
	}
	return append(out, '}'), nil
}

// memberIndex is the index in fields of the member name, a JSON string as
// read; -1 if fields lacks it.
func memberIndex(fields []string, name jsontext.Value) int {
	if bytes.IndexByte(name, '\\') >= 0 {
		unquoted, err := jsontext.AppendUnquote(nil, name)
		if err != nil {
			return -1
		}
		return indexOf(fields, string(unquoted))
	}
	for i, f := range fields {
		if len(name) == len(f)+2 && string(name[1:len(name)-1]) == f {
			return i
		}
	}
	return -1
}

func indexOf(fields []string, name string) int {
	for i, f := range fields {
		if f == name {
			return i
		}
	}
	return -1
}
