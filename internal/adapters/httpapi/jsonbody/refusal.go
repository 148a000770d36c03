package jsonbody

import (
	"bytes"
	jsonv1 "encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"slices"
	"strconv"
	"strings"

	"github.com/go-json-experiment/json"
	"github.com/orderapi/orderapi/internal/adapters/httpapi/problem"
)

// refusal names what is wrong with a body json.Unmarshal refused, as the
// API always has: the body is read again the way every body used to be
// read (see explain), so that status, code, wording and byte offsets stay
// what clients know. Only a refused body pays for the second reading.
func refusal[T any](data []byte, err error) error {
	if p := explain[T](data); p != nil {
		return p
	}
	// Both readings accept the same bodies (TestReadingsAgree): this is a
	// guard, not a path.
	return fromStrict(err)
}

// explain returns the first problem of data as a request of type T, in
// the order the API ranks them, or nil: invalid UTF-8, lone surrogates,
// duplicate names and depth (shapeProblem); then syntax, unknown members
// and JSON types as encoding/json finds them, whose member names match
// fields in any case and whose first error in the body wins; then data
// after the object; last, a name that matches a field only in another
// case.
func explain[T any](data []byte) error {
	if err := shapeProblem(data); err != nil {
		return err
	}
	var v T
	dec := jsonv1.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&v); err != nil {
		if isUnknownField(err) {
			if named := unknownFieldPath[T](data); named != nil {
				return named
			}
		}
		return jsonError(err)
	}
	if err := dec.Decode(&struct{}{}); err != io.EOF {
		return problem.BadRequest(problem.CodeMalformedJSON, "the request body must hold one JSON object and nothing after it")
	}
	return exactNames(data, v)
}

// unknownFieldPath names an unknown member by its dotted path, which
// encoding/json's error leaves out: the body is decoded again, this time
// accepting unknown members, so that each nested object it holds is there
// to compare its names with.
func unknownFieldPath[T any](body []byte) error {
	var v T
	_ = jsonv1.Unmarshal(body, &v) // only the nested objects matter here
	return exactNames(body, v)
}

// isUnknownField reports encoding/json's unknown-field error, which has no
// type of its own: its text is the only sign.
func isUnknownField(err error) bool {
	return strings.HasPrefix(err.Error(), unknownFieldPrefix)
}

const unknownFieldPrefix = "json: unknown field "

// jsonError words an encoding/json failure: where it is, without echoing
// the client's body back.
func jsonError(err error) error {
	if e, ok := errors.AsType[*jsonv1.SyntaxError](err); ok {
		return problem.BadRequest(problem.CodeMalformedJSON, fmt.Sprintf("malformed JSON at byte %d", e.Offset))
	}
	if errors.Is(err, io.ErrUnexpectedEOF) {
		return problem.BadRequest(problem.CodeMalformedJSON, "the JSON ends too early")
	}
	if e, ok := errors.AsType[*jsonv1.UnmarshalTypeError](err); ok {
		field := e.Field
		if field == "" {
			field = "the body"
		}
		return problem.BadRequest(problem.CodeWrongType, fmt.Sprintf("%s must be a JSON %s", field, jsonTypeName(e.Type.Kind())))
	}
	if name, ok := strings.CutPrefix(err.Error(), unknownFieldPrefix); ok {
		return problem.BadRequest(problem.CodeUnknownField, "unknown field "+name)
	}
	return problem.BadRequest(problem.CodeMalformedJSON, "the body is not valid JSON for this request")
}

// fromStrict words json.Unmarshal's own error, for a refusal explain
// does not account for.
func fromStrict(err error) error {
	se, ok := errors.AsType[*json.SemanticError](err)
	if !ok {
		return problem.BadRequest(problem.CodeMalformedJSON, "the body is not valid JSON for this request")
	}
	field := strings.Join(slices.Collect(se.JSONPointer.Tokens()), ".")
	if errors.Is(se.Err, json.ErrUnknownName) {
		return problem.BadRequest(problem.CodeUnknownField, "unknown field "+strconv.Quote(field))
	}
	if field == "" {
		field = "the body"
	}
	kind := "value of another type"
	if t := se.GoType; t != nil {
		for t.Kind() == reflect.Pointer {
			t = t.Elem()
		}
		kind = jsonTypeName(t.Kind())
	}
	return problem.BadRequest(problem.CodeWrongType, fmt.Sprintf("%s must be a JSON %s", field, kind))
}

// jsonTypeName names a Go kind the way a JSON author would.
func jsonTypeName(kind reflect.Kind) string {
	switch kind {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "integer within range"
	case reflect.Float32, reflect.Float64:
		return "number"
	case reflect.String:
		return "string"
	case reflect.Bool:
		return "boolean"
	case reflect.Struct, reflect.Map:
		return "object"
	case reflect.Slice, reflect.Array:
		return "array"
	}
	return "value of another type"
}
