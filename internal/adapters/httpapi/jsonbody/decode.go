// Package jsonbody reads a request's JSON body strictly, once, into the
// input a use case takes, and names what is wrong with a body it refuses
// as a problem (400, 408, 413, 415 or 422).
package jsonbody

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"mime"
	"net"
	"net/http"
	"strings"

	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
	"github.com/orderapi/orderapi/internal/adapters/httpapi/problem"
)

// MaxBytes bounds a request body. Orders are small; 1 MiB leaves room
// for any legitimate command many times over.
const MaxBytes = 1 << 20

// MaxDepth bounds how deeply a refused body may nest arrays and
// objects before that alone is its problem. No request type goes deeper
// than 2.
const MaxDepth = 32

// ErrEmpty reports a request without a body. Commands whose body is
// optional treat it as {}.
var ErrEmpty = problem.BadRequest(problem.CodeMalformedJSON, "the request body is empty; send a JSON object")

// strict is how every body is read: member names exactly as the contract
// spells them, each once, in valid UTF-8 without lone surrogates, numbers
// that fit their field, one value and nothing after it.
var strict = json.RejectUnknownMembers(true)

// Decode reads a request's JSON body once and parses it once into T, which
// convert turns into the app's input, listing every field problem (422).
// Before that: size (413), a body too slow to arrive (408), and invalid
// UTF-8, duplicate members, nesting, syntax, unknown fields, JSON types
// and trailing data (400). The media type is checked before, by Only,
// on the route.
func Decode[T, In any](w http.ResponseWriter, r *http.Request, maxBytes int64, convert func(T) (In, error)) (In, error) {
	req, err := decodeBody[T](w, r, maxBytes)
	if err != nil {
		var zero In
		return zero, err
	}
	return convert(req)
}

// decodeBody is Decode without the conversion.
func decodeBody[T any](w http.ResponseWriter, r *http.Request, maxBytes int64) (T, error) {
	var v T
	data, err := readBody(w, r, maxBytes)
	if err != nil {
		return v, err
	}
	data = bytes.TrimLeft(data, " \t\r\n")
	if len(data) == 0 {
		return v, ErrEmpty
	}
	if data[0] != '{' {
		// Refused here, since a request type would take null for {}.
		if !jsontext.Value(data).IsValid(jsontext.AllowInvalidUTF8(true), jsontext.AllowDuplicateNames(true)) {
			return v, problem.BadRequest(problem.CodeMalformedJSON, "the request body is not JSON")
		}
		return v, problem.BadRequest(problem.CodeWrongType, "the request body must be a JSON object")
	}
	if err := json.Unmarshal(data, &v, strict); err != nil {
		return v, refusal[T](data, err)
	}
	return v, nil
}

// readBody reads at most maxBytes of a request's body.
func readBody(w http.ResponseWriter, r *http.Request, maxBytes int64) ([]byte, error) {
	if r.ContentLength > maxBytes {
		return nil, tooLarge(maxBytes)
	}
	data, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBytes))
	if err != nil {
		return nil, readError(err, maxBytes)
	}
	return data, nil
}

// Ignore reads and drops the body of a request that takes none, a
// DELETE's (RFC 9110 gives it no meaning), bounded as every body is: one
// over maxBytes is a 413 as on any command, one too slow a 408.
func Ignore(w http.ResponseWriter, r *http.Request, maxBytes int64) error {
	if r.ContentLength > maxBytes {
		return tooLarge(maxBytes)
	}
	if _, err := io.Copy(io.Discard, http.MaxBytesReader(w, r.Body, maxBytes)); err != nil {
		return readError(err, maxBytes)
	}
	return nil
}

// readError is the problem with a body that could not be read whole.
func readError(err error, maxBytes int64) error {
	if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
		return tooLarge(maxBytes)
	}
	if e, ok := errors.AsType[net.Error](err); ok && e.Timeout() {
		// The server's ReadTimeout ran out: a client trickling its
		// body is cut off with an answer, not left hanging.
		return problem.Request(http.StatusRequestTimeout, problem.CodeRequestTimeout, "the request body did not arrive in time")
	}
	return problem.BadRequest(problem.CodeMalformedJSON, "the request body could not be read")
}

func tooLarge(maxBytes int64) error {
	return problem.Request(http.StatusRequestEntityTooLarge, problem.CodeTooLarge, fmt.Sprintf("the request body must not exceed %d bytes", maxBytes))
}

// Only refuses a request whose Content-Type is not JSON (415) before
// anything else reads it, whatever its body, empty or not: a browser sends
// a cross-site "simple request" (text/plain, a form) without asking first,
// so such a request must never run a command, nor be answered a replay.
// So is one whose body has a content coding (415, with Accept-Encoding:
// identity, as RFC 9110 asks): none is decoded, and the coded bytes must
// not be read as the JSON they stand for.
func Only(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := checkJSONMediaType(r.Header.Get("Content-Type")); err != nil {
			problem.Write(w, r, err)
			return
		}
		if err := checkNoContentCoding(r.Header.Values("Content-Encoding")); err != nil {
			w.Header().Set("Accept-Encoding", "identity")
			problem.Write(w, r, err)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// checkNoContentCoding accepts Content-Encoding values that name no coding
// but identity (RFC 9110's list: comma-separated, names case-insensitive,
// empty elements allowed).
func checkNoContentCoding(values []string) error {
	for _, v := range values {
		for c := range strings.SplitSeq(v, ",") {
			if c = strings.TrimSpace(c); c != "" && !strings.EqualFold(c, "identity") {
				return problem.Request(http.StatusUnsupportedMediaType, problem.CodeContentCoding,
					"send the body without a content coding: no Content-Encoding, or identity")
			}
		}
	}
	return nil
}

// checkJSONMediaType accepts application/json, with a UTF-8 charset if one
// is named (RFC 8259 JSON is UTF-8).
func checkJSONMediaType(ct string) error {
	unsupported := problem.Request(http.StatusUnsupportedMediaType, problem.CodeUnsupportedMedia, "send the body as application/json")
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
