package httpapi

import (
	"bytes"
	"crypto/sha256"
	"io"
	"net/http"
	"strconv"

	"github.com/orderapi/orderapi/internal/adapters/httpapi/jsonbody"
	"github.com/orderapi/orderapi/internal/adapters/httpapi/problem"
	"github.com/orderapi/orderapi/internal/app"
)

// maxIdempotencyKeyLen bounds an Idempotency-Key; a UUID, the usual key,
// takes 36.
const maxIdempotencyKeyLen = 255

// idempotencyOf reads the request's Idempotency-Key, if any, and
// fingerprints the request: a retry must repeat it exactly. The
// fingerprint is a SHA-256 of the method, the path (with its ids), the
// version If-Match expects, and the body's bytes as sent.
//
// The body is hashed as sent, not as parsed: a retry resends the same
// bytes, and two bodies that differ only in spacing or member order are
// refused (422, loudly) rather than risk equating two that the strict
// decoder would read differently. A body is read here, bounded like
// decode does, and put back for decode, read errors included, so that
// decode still answers for them. DELETE carries no body in this API: the
// handler ignores one, and so does the fingerprint.
//
// The key is taken as sent, quotes included: 1 to 255 visible ASCII
// characters, else 400 invalid_header.
func idempotencyOf(w http.ResponseWriter, r *http.Request, expectedVersion int) (app.Idempotency, error) {
	key, ok := headerValue(r, "Idempotency-Key")
	if !ok {
		return app.Idempotency{}, nil
	}
	if len(key) < 1 || len(key) > maxIdempotencyKeyLen || !allBytes(key, isVisibleASCII) {
		return app.Idempotency{}, problem.BadRequest(problem.CodeBadHeader,
			"Idempotency-Key must be 1 to 255 visible ASCII characters (no spaces), once")
	}
	h := sha256.New()
	// Neither the method nor the path holds a newline, and the version is
	// digits: these fields cannot run into each other or into the body.
	_, _ = io.WriteString(h, r.Method+"\n"+r.URL.Path+"\n"+strconv.Itoa(expectedVersion)+"\n")
	if r.Method != http.MethodDelete {
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, jsonbody.MaxBytes))
		_ = r.Body.Close()
		r.Body = io.NopCloser(io.MultiReader(bytes.NewReader(body), errReader{err}))
		_, _ = h.Write(body)
	}
	idem := app.Idempotency{Key: key}
	copy(idem.Fingerprint[:], h.Sum(nil))
	return idem, nil
}

func isVisibleASCII(c byte) bool { return c > ' ' && c < 0x7f }

// errReader ends a body put back after reading with the error the read
// ended with (nil: io.EOF).
type errReader struct{ err error }

func (e errReader) Read([]byte) (int, error) {
	if e.err == nil {
		return 0, io.EOF
	}
	return 0, e.err
}
