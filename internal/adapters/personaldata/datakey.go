package personaldata

import (
	"bytes"
	"crypto/cipher"
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
// see Place), as unpadded standard base64.
func (k *DataKey) Seal(plain []byte, place string) string {
	return b64.EncodeToString(seal(k.aead, plain, []byte(place)))
}

// Open returns what Seal sealed for the same place; ErrNotOpened if it
// was sealed for another place, under another key, or not at all.
func (k *DataKey) Open(sealed, place string) ([]byte, error) {
	raw, err := b64.DecodeString(sealed)
	if err != nil {
		return nil, ErrNotOpened
	}
	return open(k.aead, raw, []byte(place))
}

// Place is the associated data of a sealed field: the kind of record
// that holds it (an event, a row of a read model, a snapshot), the
// record's id, and the field's name. A value copied anywhere else does
// not open.
func Place(kind, record, field string) string {
	return "orderapi/" + kind + "/" + record + "/" + field
}

// SealMembers returns the JSON object obj with the value of each member
// named in fields sealed: replaced by a JSON string holding the sealed
// bytes of the value's JSON text. Absent and null members stay as they
// are. sealed reports whether any member was sealed. place gives the
// associated data of each field.
func (k *DataKey) SealMembers(obj []byte, fields []string, place func(field string) string) (out []byte, sealed bool, err error) {
	out, err = rewriteMembers(obj, fields, false, func(name string, v jsontext.Value) (jsontext.Value, error) {
		if v.Kind() == 'n' {
			return v, nil
		}
		sealed = true
		return jsontext.AppendQuote(nil, k.Seal(v, place(name)))
	})
	return out, sealed, err
}

// OpenMembers returns the JSON object obj with each member named in
// fields opened (SealMembers undone) with k. With k nil, the customer's
// key having been destroyed, each of those members is null instead,
// present even where it was absent, so that a reader sees the erasure.
func OpenMembers(k *DataKey, obj []byte, fields []string, place func(field string) string) ([]byte, error) {
	return rewriteMembers(obj, fields, k == nil, func(name string, v jsontext.Value) (jsontext.Value, error) {
		if k == nil {
			return jsontext.Value("null"), nil
		}
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
		plain, err := k.Open(s, place(name))
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		return plain, nil
	})
}

// NullMembers returns the JSON object obj with each member named in
// fields set to null, added where absent: how an erased record reads.
func NullMembers(obj []byte, fields []string) ([]byte, error) {
	return OpenMembers(nil, obj, fields, nil)
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
// member named in fields through f; with addMissing, a named member that
// obj lacks is added with f's value of null.
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
