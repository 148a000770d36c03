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

// idempotencyOf reads the request's Idempotency-Key, if any (1 to 255
// visible ASCII characters, taken as sent, else 400 invalid_header), and
// fingerprints the request: a SHA-256 of the method, the path, the version
// If-Match expects and the body's bytes as sent (a DELETE's, which is
// ignored, is left out). The body is read here,
// bounded as decoding bounds it, and put back, read errors included, for
// decoding to answer. See docs/design.md, "Idempotency keys over HTTP".
func idempotencyOf(w http.ResponseWriter, r *http.Request, expectedVersion int) (app.Idempotency, error) {
	key, err := idempotencyKey(r)
	if err != nil || key == "" {
		return app.Idempotency{}, err
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

// idempotencyKey reads the request's Idempotency-Key: "" when there is
// none, 400 invalid_header when it is not 1 to 255 visible ASCII
// characters, sent once.
func idempotencyKey(r *http.Request) (string, error) {
	key, ok := headerValue(r, "Idempotency-Key")
	if !ok {
		return "", nil
	}
	if len(key) < 1 || len(key) > maxIdempotencyKeyLen || !allBytes(key, isVisibleASCII) {
		return "", problem.BadRequest(problem.CodeBadHeader,
			"Idempotency-Key must be 1 to 255 visible ASCII characters (no spaces), once")
	}
	return key, nil
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
