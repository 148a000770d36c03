package httpapi

import (
	"bytes"
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

// maxPresized bounds the body idempotencyOf reads into a buffer of its
// declared size; command bodies are well below it.
const maxPresized = 16 << 10

// Fingerprinter fingerprints the requests that claim idempotency keys
// (personaldata.RequestFingerprints). A body may hold personal data, and
// the fingerprint is stored with the claim: it must be keyed, so that a
// copy of the database cannot confirm a guess of the body.
type Fingerprinter interface {
	// Fingerprint is msg's fingerprint as a new claim stores it.
	Fingerprint(msg []byte) [32]byte
	// Earlier says whether stored is msg's fingerprint in a form an older
	// claim may hold (under a previous key, or unkeyed).
	Earlier(msg []byte, stored [32]byte) bool
}

// idempotencyOf reads the request's Idempotency-Key, if any (1 to 255
// visible ASCII characters, taken as sent, else 400 invalid_header), and
// fingerprints the request with fp: the method, the path, the version
// If-Match expects and the body's bytes as sent (a DELETE's, which is
// ignored, is left out). The body is read here, after them into one
// buffer, bounded as decoding bounds it, and put back, read errors
// included, for decoding to answer. See docs/design.md, "Idempotency keys
// over HTTP".
func idempotencyOf(w http.ResponseWriter, r *http.Request, fp Fingerprinter, expectedVersion int) (app.Idempotency, error) {
	key, err := idempotencyKey(r)
	if err != nil || key == "" {
		return app.Idempotency{}, err
	}
	// Neither the method nor the path holds a newline, and the version is
	// digits: these fields cannot run into each other or into the body.
	// The buffer is sized for the body its Content-Length declares, + 1
	// for the read that finds the end; only up to maxPresized, so that a
	// declared length makes no large buffer before its bytes arrive.
	size := len(r.Method) + len(r.URL.Path) + 24
	if n := r.ContentLength; n > 0 && n < maxPresized {
		size += int(n) + 1
	} else {
		size += 512
	}
	msg := make([]byte, 0, size)
	msg = append(append(append(msg, r.Method...), '\n'), r.URL.Path...)
	msg = append(strconv.AppendInt(append(msg, '\n'), int64(expectedVersion), 10), '\n')
	if r.Method != http.MethodDelete {
		head := len(msg)
		msg, err = readAppend(msg, http.MaxBytesReader(w, r.Body, jsonbody.MaxBytes))
		_ = r.Body.Close()
		r.Body = io.NopCloser(io.MultiReader(bytes.NewReader(msg[head:]), errReader{err}))
	}
	return app.Idempotency{
		Key:         key,
		Fingerprint: fp.Fingerprint(msg),
		Earlier:     &earlierForms{fp: fp, msg: msg},
	}, nil
}

// earlierForms recognises msg's fingerprint in fp's earlier forms.
type earlierForms struct {
	fp  Fingerprinter
	msg []byte
}

func (e *earlierForms) Match(stored [32]byte) bool { return e.fp.Earlier(e.msg, stored) }

// readAppend appends what r reads to b until r ends, as io.ReadAll does
// into a buffer of its own.
func readAppend(b []byte, r io.Reader) ([]byte, error) {
	for {
		n, err := r.Read(b[len(b):cap(b)])
		b = b[:len(b)+n]
		if err != nil {
			if err == io.EOF {
				err = nil
			}
			return b, err
		}
		if len(b) == cap(b) {
			b = append(b, 0)[:len(b)]
		}
	}
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
