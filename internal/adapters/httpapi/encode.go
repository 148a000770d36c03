package httpapi

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"

	"github.com/orderapi/orderapi/internal/adapters/httpapi/problem"
	"github.com/orderapi/orderapi/internal/app"
)

// writeJSON answers with v as JSON. It marshals before writing anything, so
// a value that cannot be encoded still gets a proper 500 problem.
func writeJSON(w http.ResponseWriter, r *http.Request, status int, v any) {
	body, err := json.Marshal(v)
	if err != nil {
		problem.Write(w, r, fmt.Errorf("encode %T: %w", v, err))
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// writeResult answers a command with the order after it, its ETag (ready
// for the next If-Match) and the position of the last event
// written, which a client can wait for in projections that lag. A replay
// (an Idempotency-Key used before, by the same request) is the first
// answer again, marked Idempotent-Replayed.
func writeResult(w http.ResponseWriter, r *http.Request, status int, res app.Result) {
	h := w.Header()
	if res.Replayed {
		h.Set("Idempotent-Replayed", "true")
	}
	h.Set("ETag", etag(&res.Order))
	h.Set("X-Event-Position", strconv.FormatInt(res.Position, 10))
	writeOrder(w, status, res.Order)
}
