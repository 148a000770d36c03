package jsonbody

import (
	"bytes"
	jsonv1 "encoding/json"
	"fmt"
	"strconv"

	"github.com/orderapi/orderapi/internal/adapters/httpapi/problem"
)

// exactNames refuses member names that match a field only when case is
// ignored: encoding/json takes "Quantity" for "quantity", the contract
// does not. The names a request type knows are those it marshals to, as
// none of them is omitempty. Of several such names, the first in the
// body is named.
func exactNames(body []byte, v any) error {
	known, err := jsonv1.Marshal(v)
	if err != nil {
		return fmt.Errorf("marshal %T: %w", v, err)
	}
	bodyDec := jsonv1.NewDecoder(bytes.NewReader(body))
	bodyDec.UseNumber() // numbers stay text: none is converted again
	got, err := readMembers(bodyDec)
	if err != nil {
		return problem.BadRequest(problem.CodeMalformedJSON, "the body is not valid JSON for this request")
	}
	var want any
	dec := jsonv1.NewDecoder(bytes.NewReader(known))
	dec.UseNumber()
	if err := dec.Decode(&want); err != nil {
		return fmt.Errorf("unmarshal %T: %w", v, err)
	}
	return sameNames("", got, want)
}

func sameNames(prefix string, got []member, want any) error {
	w, ok := want.(map[string]any)
	if !ok {
		return nil
	}
	for _, m := range got {
		wv, ok := w[m.name]
		if !ok {
			return problem.BadRequest(problem.CodeUnknownField, "unknown field "+strconv.Quote(prefix+m.name))
		}
		if err := sameNames(prefix+m.name+".", m.members, wv); err != nil {
			return err
		}
	}
	return nil
}

// member is a member of an object, in the body's order, with the members
// of its value when that is an object.
type member struct {
	name    string
	members []member
}

// readMembers reads one value from dec and returns its members, none
// unless it is an object.
func readMembers(dec *jsonv1.Decoder) ([]member, error) {
	tok, err := dec.Token()
	if err != nil {
		return nil, err
	}
	var ms []member
	switch tok {
	case jsonv1.Delim('{'):
		for dec.More() {
			tok, err := dec.Token()
			if err != nil {
				return nil, err
			}
			name, _ := tok.(string)
			inner, err := readMembers(dec)
			if err != nil {
				return nil, err
			}
			ms = append(ms, member{name: name, members: inner})
		}
	case jsonv1.Delim('['):
		for dec.More() {
			if _, err := readMembers(dec); err != nil {
				return nil, err
			}
		}
	default:
		return nil, nil
	}
	_, err = dec.Token() // the closing delimiter
	return ms, err
}
