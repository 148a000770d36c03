package jsonbody

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
	"github.com/orderapi/orderapi/internal/adapters/httpapi/problem"
)

// refusal names what is wrong with a body json.Unmarshal refused, ranked
// as the API always has: invalid UTF-8 anywhere; then, in the order they
// appear, syntax errors, duplicate members, lone surrogates and nesting
// deeper than MaxDepth in the object; then the member that is unknown
// or of the wrong JSON type; last, anything after the object. Unmarshal
// stops at its first problem, so a refused body is read again for the
// ranking: an accepted one is parsed once.
func refusal(data []byte, err error) error {
	if p := shapeProblem(data); p != nil {
		return p
	}
	if se, ok := errors.AsType[*json.SemanticError](err); ok {
		return semanticProblem(se)
	}
	// The object itself is well formed: the problem comes after it.
	return problem.BadRequest(problem.CodeMalformedJSON, "the request body must hold one JSON object and nothing after it")
}

// shapeProblem reports invalid UTF-8 anywhere in data, or else the first
// syntactic problem of its first value; nil when there is neither.
func shapeProblem(data []byte) error {
	if !utf8.Valid(data) {
		return problem.BadRequest(problem.CodeMalformedJSON, fmt.Sprintf("the body is not valid UTF-8 (at byte %d)", invalidUTF8At(data)))
	}
	return syntaxProblem(data)
}

// invalidUTF8At returns the offset of the first byte that is not UTF-8.
func invalidUTF8At(data []byte) int {
	for i := 0; i < len(data); {
		r, size := utf8.DecodeRune(data[i:])
		if r == utf8.RuneError && size <= 1 {
			return i
		}
		i += size
	}
	return len(data)
}

// syntaxProblem reads the body's first value token by token and reports
// its first syntactic problem, or nil.
func syntaxProblem(data []byte) error {
	dec := jsontext.NewDecoder(bytes.NewReader(data))
	var open []jsontext.Kind // '{' or '[' for each open value
	for {
		tok, err := dec.ReadToken()
		if err != nil {
			return syntaxError(data, err, open)
		}
		switch k := tok.Kind(); k {
		case '{', '[':
			if len(open) >= MaxDepth {
				return problem.BadRequest(problem.CodeMalformedJSON, fmt.Sprintf("the JSON nests deeper than %d levels", MaxDepth))
			}
			open = append(open, k)
		case '}', ']':
			open = open[:len(open)-1]
		}
		if len(open) == 0 {
			return nil
		}
	}
}

// syntaxError words jsontext's error without echoing the body back. Byte
// offsets count the bytes read up to and including the offending one.
func syntaxError(data []byte, err error, open []jsontext.Kind) error {
	se, ok := errors.AsType[*jsontext.SyntacticError](err)
	switch {
	case !ok:
		return problem.BadRequest(problem.CodeMalformedJSON, "the body is not valid JSON for this request")
	case errors.Is(se.Err, io.ErrUnexpectedEOF):
		return problem.BadRequest(problem.CodeMalformedJSON, "the JSON ends too early")
	case errors.Is(se.Err, jsontext.ErrDuplicateName):
		// Members are named by their dotted path, array positions left
		// out, as field problems name them.
		var path []string
		i := 0
		for tok := range se.JSONPointer.Tokens() {
			if i >= len(open) || open[i] == '{' {
				path = append(path, tok)
			}
			i++
		}
		return problem.BadRequest(problem.CodeDuplicateField, "field "+strconv.Quote(strings.Join(path, "."))+" is given more than once")
	case isSurrogateEscape(data, se.ByteOffset):
		return problem.BadRequest(problem.CodeMalformedJSON, fmt.Sprintf("the body escapes half a UTF-16 surrogate pair at byte %d, which is no character", se.ByteOffset))
	}
	return problem.BadRequest(problem.CodeMalformedJSON, fmt.Sprintf("malformed JSON at byte %d", offending(data, se.ByteOffset)+1))
}

// offending returns the offset of the byte that makes data invalid, given
// where jsontext reports it: a comma after a value is refused where it
// stands, though what is wrong is the '}' or ']' that follows it.
func offending(data []byte, at int64) int64 {
	if at <= 0 || at >= int64(len(data)) || data[at] != ',' {
		return at
	}
	before := bytes.TrimRight(data[:at], " \t\r\n")
	if len(before) == 0 || bytes.IndexByte([]byte("{[:,"), before[len(before)-1]) >= 0 {
		return at
	}
	rest := bytes.TrimLeft(data[at+1:], " \t\r\n")
	if len(rest) == 0 {
		return at
	}
	return int64(len(data) - len(rest))
}

// isSurrogateEscape reports whether data holds a \u escape of a UTF-16
// surrogate at offset at.
func isSurrogateEscape(data []byte, at int64) bool {
	if at < 0 || at+6 > int64(len(data)) || data[at] != '\\' || data[at+1] != 'u' {
		return false
	}
	r, err := strconv.ParseUint(string(data[at+2:at+6]), 16, 16)
	return err == nil && r >= 0xd800 && r <= 0xdfff
}

// semanticProblem words a member json.Unmarshal could not store: unknown
// (or spelt in another case) or of the wrong JSON type.
func semanticProblem(se *json.SemanticError) error {
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
