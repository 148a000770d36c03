package personaldata

import (
	"bytes"
	"context"
	"crypto/cipher"
	"errors"
	"fmt"

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
	return k.ID.String() + "." + b64.EncodeToString(seal(k.aead, plain, []byte(place)))
}

// Open returns what Seal sealed for the same place; ErrNotOpened if it
// was sealed for another place, under another key, or not at all.
func (k *DataKey) Open(sealed, place string) ([]byte, error) {
	id, body, ok := splitSealed(sealed)
	if !ok || id != k.ID {
		return nil, ErrNotOpened
	}
	raw, err := b64.DecodeString(body)
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
	if !ok {
		return false
	}
	_, err := b64.DecodeString(body)
	return err == nil
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
		return jsontext.AppendQuote(nil, k.Seal(v, place(name)))
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
		var s string
		if err := unquote(v, &s); err != nil {
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
	id, _, ok := splitSealed(sealed)
	if !ok {
		return nil, ErrNotOpened
	}
	k, err := r.Key(ctx, id)
	if err != nil {
		return nil, err
	}
	return k.Open(sealed, place)
}

// SealedKeys calls found with the id of the key each sealed member named
// in fields names, and returns how many there were.
func SealedKeys(obj []byte, fields []string, found func(field string, key uuid.UUID)) (int, error) {
	n := 0
	_, err := rewriteMembers(obj, fields, false, func(name string, v jsontext.Value) (jsontext.Value, error) {
		if v.Kind() != '"' {
			return v, nil
		}
		var s string
		if err := unquote(v, &s); err != nil {
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

func unquote(v jsontext.Value, s *string) error {
	tok, err := jsontext.NewDecoder(bytes.NewReader(v)).ReadToken()
	if err != nil {
		return err
	}
	*s = tok.String()
	return nil
}

// rewriteMembers copies the JSON object obj, passing the value of each
// member named in fields through f, and leaving the member out where f
// gives none (nil); with addMissing, a named member that obj lacks is
// added with f's value of null.
func rewriteMembers(obj []byte, fields []string, addMissing bool, f func(name string, v jsontext.Value) (jsontext.Value, error)) ([]byte, error) {
	dec := jsontext.NewDecoder(bytes.NewReader(obj))
	var out bytes.Buffer
	enc := jsontext.NewEncoder(&out)
	if tok, err := dec.ReadToken(); err != nil || tok.Kind() != '{' {
		return nil, fmt.Errorf("rewrite members: not a JSON object")
	}
	if err := enc.WriteToken(jsontext.BeginObject); err != nil {
		return nil, err
	}
	seen := make([]bool, len(fields))
	for dec.PeekKind() != '}' {
		tok, err := dec.ReadToken()
		if err != nil {
			return nil, fmt.Errorf("rewrite members: %w", err)
		}
		// A token is valid only until the decoder's next read.
		name := tok.String()
		v, err := dec.ReadValue()
		if err != nil {
			return nil, fmt.Errorf("rewrite members: %w", err)
		}
		if i := indexOf(fields, name); i >= 0 {
			seen[i] = true
			if v, err = f(name, v); err != nil {
				return nil, err
			}
			if v == nil {
				continue
			}
		}
		if err := enc.WriteToken(jsontext.String(name)); err != nil {
			return nil, err
		}
		if err := enc.WriteValue(v); err != nil {
			return nil, err
		}
	}
	if _, err := dec.ReadToken(); err != nil {
		return nil, fmt.Errorf("rewrite members: %w", err)
	}
	for i, name := range fields {
		if seen[i] || !addMissing {
			continue
		}
		v, err := f(name, jsontext.Value("null"))
		if err != nil {
			return nil, err
		}
		if err := enc.WriteToken(jsontext.String(name)); err != nil {
			return nil, err
		}
		if err := enc.WriteValue(v); err != nil {
			return nil, err
		}
	}
	if err := enc.WriteToken(jsontext.EndObject); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(out.Bytes(), []byte("\n")), nil
}

func indexOf(fields []string, name string) int {
	for i, f := range fields {
		if f == name {
			return i
		}
	}
	return -1
}
