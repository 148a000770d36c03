package httpapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net"
	"net/http"
	"strconv"
	"strings"
)

// maxBodyBytes bounds a request body. Orders are small; 1 MiB leaves room
// for any legitimate command many times over.
const maxBodyBytes = 1 << 20

// validator is a decoded request that can list its own field problems as a
// KindInvalid *order.Error (or nil).
type validator interface {
	Valid() error
}

// errEmptyBody reports a request without a body. Commands whose body is
// optional treat it as {}.
var errEmptyBody = badRequest(codeMalformedJSON, "the request body is empty; send a JSON object")

// decode reads a request's JSON body strictly: size (413), a body too slow
// to arrive (408), invalid UTF-8, duplicate members,
// nesting, syntax, unknown fields, JSON types and trailing data (400), then
// the values themselves (422, every field listed). Numbers decode straight
// into typed fields, so a 30-digit quantity is a type error found by
// strconv, never a huge number built in memory. The media type is checked
// before, by jsonOnly, on the route.
func decode[T validator](w http.ResponseWriter, r *http.Request, maxBytes int64) (T, error) {
	var v T
	if r.ContentLength > maxBytes {
		return v, tooLarge(maxBytes)
	}
	data, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBytes))
	if err != nil {
		if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
			return v, tooLarge(maxBytes)
		}
		if e, ok := errors.AsType[net.Error](err); ok && e.Timeout() {
			// The server's ReadTimeout ran out: a client trickling its
			// body is cut off with an answer, not left hanging.
			return v, &requestError{status: http.StatusRequestTimeout, code: codeRequestTimeout,
				detail: "the request body did not arrive in time"}
		}
		return v, badRequest(codeMalformedJSON, "the request body could not be read")
	}
	data = bytes.TrimLeft(data, " \t\r\n")
	if len(data) == 0 {
		return v, errEmptyBody
	}
	if data[0] != '{' {
		// Caught here because encoding/json would take null for {}.
		if !json.Valid(data) {
			return v, badRequest(codeMalformedJSON, "the request body is not JSON")
		}
		return v, badRequest(codeWrongType, "the request body must be a JSON object")
	}
	if err := checkJSONShape(data); err != nil {
		return v, err
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&v); err != nil {
		if isUnknownField(err) {
			if named := unknownFieldPath[T](data); named != nil {
				return v, named
			}
		}
		return v, jsonError(err)
	}
	if err := dec.Decode(&struct{}{}); err != io.EOF {
		return v, badRequest(codeMalformedJSON, "the request body must hold one JSON object and nothing after it")
	}
	if err := exactNames(data, v); err != nil {
		return v, err
	}
	if err := v.Valid(); err != nil {
		return v, err
	}
	return v, nil
}

func tooLarge(maxBytes int64) error {
	return &requestError{status: http.StatusRequestEntityTooLarge, code: codeTooLarge,
		detail: fmt.Sprintf("the request body must not exceed %d bytes", maxBytes)}
}

// jsonOnly refuses a request whose Content-Type is not JSON (415) before
// anything else reads it, whatever its body, empty or not: a browser sends
// a cross-site "simple request" (text/plain, a form) without asking first,
// so such a request must never run a command, nor be answered a replay.
func jsonOnly(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := checkJSONMediaType(r.Header.Get("Content-Type")); err != nil {
			writeError(w, r, err)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// checkJSONMediaType accepts application/json, with a UTF-8 charset if one
// is named (RFC 8259 JSON is UTF-8).
func checkJSONMediaType(ct string) error {
	unsupported := &requestError{status: http.StatusUnsupportedMediaType, code: codeUnsupportedMedia,
		detail: "send the body as application/json"}
	mt, params, err := mime.ParseMediaType(ct)
	if err != nil || mt != "application/json" {
		return unsupported
	}
	for k, v := range params {
		if k != "charset" || !strings.EqualFold(v, "utf-8") {
			return unsupported
		}
	}
	return nil
}

// exactNames refuses member names that match a field only when case is
// ignored: encoding/json takes "Quantity" for "quantity", the contract
// does not. The names a request type knows are those it marshals to, as
// none of them is omitempty.
func exactNames(body []byte, v any) error {
	known, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("marshal %T: %w", v, err)
	}
	var got, want any
	if err := unmarshalNumbers(body, &got); err != nil {
		return badRequest(codeMalformedJSON, "the body is not valid JSON for this request")
	}
	if err := unmarshalNumbers(known, &want); err != nil {
		return fmt.Errorf("unmarshal %T: %w", v, err)
	}
	return sameNames("", got, want)
}

func sameNames(prefix string, got, want any) error {
	g, ok1 := got.(map[string]any)
	w, ok2 := want.(map[string]any)
	if !ok1 || !ok2 {
		return nil
	}
	for name, gv := range g {
		wv, ok := w[name]
		if !ok {
			return badRequest(codeUnknownField, "unknown field "+strconv.Quote(prefix+name))
		}
		if err := sameNames(prefix+name+".", gv, wv); err != nil {
			return err
		}
	}
	return nil
}

// unknownFieldPath names an unknown member by its dotted path, which
// encoding/json's error leaves out: the body is decoded again, this time
// accepting unknown members, so that each nested object it holds is there
// to compare its names with.
func unknownFieldPath[T any](body []byte) error {
	var v T
	_ = json.Unmarshal(body, &v) // only the nested objects matter here
	return exactNames(body, v)
}

// isUnknownField reports encoding/json's unknown-field error, which has no
// type of its own: its text is the only sign.
func isUnknownField(err error) bool {
	return strings.HasPrefix(err.Error(), unknownFieldPrefix)
}

const unknownFieldPrefix = "json: unknown field "

// unmarshalNumbers keeps numbers as text, so none is converted again.
func unmarshalNumbers(data []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	return dec.Decode(v)
}

// jsonError turns a decoding failure into a 400 that says where it is,
// without echoing the client's body back.
func jsonError(err error) error {
	if e, ok := errors.AsType[*json.SyntaxError](err); ok {
		return badRequest(codeMalformedJSON, fmt.Sprintf("malformed JSON at byte %d", e.Offset))
	}
	if errors.Is(err, io.ErrUnexpectedEOF) {
		return badRequest(codeMalformedJSON, "the JSON ends too early")
	}
	if e, ok := errors.AsType[*json.UnmarshalTypeError](err); ok {
		field := e.Field
		if field == "" {
			field = "the body"
		}
		return badRequest(codeWrongType, fmt.Sprintf("%s must be a JSON %s", field, jsonTypeName(e.Type.Kind().String())))
	}
	if name, ok := strings.CutPrefix(err.Error(), unknownFieldPrefix); ok {
		return badRequest(codeUnknownField, "unknown field "+name)
	}
	return badRequest(codeMalformedJSON, "the body is not valid JSON for this request")
}

// jsonTypeName names a Go kind the way a JSON author would.
func jsonTypeName(kind string) string {
	switch kind {
	case "int", "int8", "int16", "int32", "int64", "uint", "uint8", "uint16", "uint32", "uint64":
		return "integer within range"
	case "float32", "float64":
		return "number"
	case "string":
		return "string"
	case "bool":
		return "boolean"
	case "struct", "map":
		return "object"
	case "slice", "array":
		return "array"
	}
	return "value of another type"
}
