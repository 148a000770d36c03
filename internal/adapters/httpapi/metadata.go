package httpapi

import (
	"net/http"

	"github.com/orderapi/orderapi/internal/adapters/httpapi/access"
	"github.com/orderapi/orderapi/internal/adapters/httpapi/problem"
	"github.com/orderapi/orderapi/internal/app"
	"go.opentelemetry.io/otel/trace"
)

// maxCorrelationIDLen bounds X-Correlation-Id. Ids are recorded in every
// event's metadata, so they are held to short, printable tokens.
const maxCorrelationIDLen = 64

// metadataFrom collects what a command records about its request: the
// request id (set by the requestID middleware), the correlation id that
// ties it to a wider flow (the request id when the client sends none), the
// cause (this request), and who did it: the principal its verified token
// names, never a header the client writes (X-Actor is not read). A
// traced request that is sampled adds its trace and server span, so that
// its events lead to its trace; an unsampled trace would lead nowhere. A
// malformed X-Correlation-Id is refused: it would otherwise be stored
// forever.
func metadataFrom(r *http.Request) (app.Metadata, error) {
	id := requestIDFrom(r.Context())
	m := app.Metadata{RequestID: id, CorrelationID: id, CausationID: id, Principal: access.Principal(r.Context())}
	// A caller's span context (remote) without a span of ours is not a
	// trace of this request, sampled though the caller's may be.
	if sc := trace.SpanContextFromContext(r.Context()); sc.IsValid() && sc.IsSampled() && !sc.IsRemote() {
		m.TraceID, m.SpanID = sc.TraceID().String(), sc.SpanID().String()
	}
	if v, ok := headerValue(r, "X-Correlation-Id"); ok {
		if !isToken(v, maxCorrelationIDLen) {
			return app.Metadata{}, problem.BadRequest(problem.CodeBadHeader,
				"X-Correlation-Id must be 1 to 64 characters of A-Z, a-z, 0-9, '.', '_' and '-'")
		}
		m.CorrelationID = v
	}
	return m, nil
}

// headerValue returns a header that was sent at all; an empty or repeated
// header comes back as itself, to be refused by the caller's check.
func headerValue(r *http.Request, name string) (string, bool) {
	vs := r.Header.Values(name)
	switch len(vs) {
	case 0:
		return "", false
	case 1:
		return vs[0], true
	default:
		return "", true
	}
}

// isToken reports whether s is 1 to maxLen characters of [A-Za-z0-9._-].
func isToken(s string, maxLen int) bool {
	return len(s) >= 1 && len(s) <= maxLen && allBytes(s, isTokenByte)
}

func isTokenByte(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' ||
		c == '.' || c == '_' || c == '-'
}

func allBytes(s string, ok func(byte) bool) bool {
	for i := range len(s) {
		if !ok(s[i]) {
			return false
		}
	}
	return true
}
