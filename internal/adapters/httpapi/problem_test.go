package httpapi

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/orderapi/orderapi/internal/adapters/httpapi/problem"
	"github.com/orderapi/orderapi/internal/app"
	"github.com/orderapi/orderapi/internal/domain/order"
	"github.com/rs/zerolog"
)

func TestToProblem(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		err      error
		status   int
		code     string
		internal bool
	}{
		{"request error", problem.BadRequest(problem.CodeMalformedJSON, "x"), 400, problem.CodeMalformedJSON, false},
		{"validation", order.Invalid("quantity", order.FieldOutOfRange, "too many"), 422, order.CodeValidation, false},
		{"not found, wrapped", fmt.Errorf("load: %w", order.ErrNotFound), 404, order.CodeNotFound, false},
		{"rule", fmt.Errorf("add: %w", order.ErrDuplicateProduct), 409, order.CodeDuplicateProduct, false},
		{"rule not yet named here", &order.Error{Kind: order.KindRule, Code: "order_frozen", Message: "frozen"}, 409, "order_frozen", false},
		{"precondition", app.ErrPreconditionFailed, 412, "precondition_failed", false},
		{"conflict", fmt.Errorf("x: %w", app.ErrRetriesExhausted), 409, "version_conflict", false},
		{"exists", app.ErrExists, 409, "order_exists", false},
		{"idempotency key reused", fmt.Errorf("replay: %w", app.ErrIdempotencyKeyReused), 422, "idempotency_key_reused", false},
		{"idempotency key in progress", app.ErrIdempotencyKeyInProgress, 409, "idempotency_key_in_progress", false},
		{"key claim leaking from the store", app.ErrKeyClaimed, 500, problem.CodeInternal, true},
		{"unknown app code", &app.Error{Code: "new_thing", Message: "?"}, 500, problem.CodeInternal, true},
		{"database unavailable", fmt.Errorf("load: %w: %w", app.ErrUnavailable, errors.New("dial tcp: refused")), 503, problem.CodeUnavailable, false},
		{"deadline", fmt.Errorf("query: %w", context.DeadlineExceeded), 503, problem.CodeUnavailable, false},
		{"cancelled", context.Canceled, 503, problem.CodeUnavailable, false},
		{"unknown", errors.New("connection refused to 10.0.0.7"), 500, problem.CodeInternal, true},
		{"version conflict leaking from the store", app.ErrAppendConflict, 500, problem.CodeInternal, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, internal := problem.From(tt.err)
			if p.Status != tt.status || p.Code != tt.code || internal != tt.internal || p.Type != problem.TypeBase+tt.code || p.Title == "" {
				t.Errorf("toProblem = %+v, internal %v; want %d %s internal %v", p, internal, tt.status, tt.code, tt.internal)
			}
			if internal && strings.Contains(p.Detail, tt.err.Error()) {
				t.Errorf("internal error text leaked: %q", p.Detail)
			}
		})
	}
}

func TestValidationProblemListsFields(t *testing.T) {
	t.Parallel()
	err := order.Merge(order.Invalid("a", order.FieldRequired, "is required"), order.Invalid("b.c", order.FieldBadCountry, "bad"))
	p, _ := problem.From(err)
	want := []problem.FieldProblem{{Field: "a", Code: "required", Message: "is required"}, {Field: "b.c", Code: "invalid_country", Message: "bad"}}
	if !slices.Equal(p.Errors, want) {
		t.Errorf("errors = %+v, want %+v", p.Errors, want)
	}
}

func TestWriteErrorLogsInternalErrorsOnce(t *testing.T) {
	t.Parallel()
	var logs syncBuffer
	h := requestID(zerolog.New(&logs))(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("ETag", `"3"`) // meant for a success that did not happen
		problem.Write(w, r, fmt.Errorf("append: %w", errors.New("pq: password authentication failed for secret-user")))
	}))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("POST", "/v1/orders", nil))

	if rec.Code != 500 || strings.Contains(rec.Body.String(), "secret-user") || rec.Header().Get("ETag") != "" {
		t.Errorf("answer %d %v: %s", rec.Code, rec.Header(), rec.Body)
	}
	p := validateProblem(t, rec.Header().Get("Content-Type"), rec.Body.Bytes())
	if p.RequestID == "" || p.RequestID != rec.Header().Get("X-Request-Id") {
		t.Errorf("request_id %q, header %q", p.RequestID, rec.Header().Get("X-Request-Id"))
	}
	if n := strings.Count(logs.String(), "secret-user"); n != 1 || !strings.Contains(logs.String(), p.RequestID) {
		t.Errorf("logged %d times, want once with the request id:\n%s", n, logs.String())
	}
}

func TestRecovererAnswersProblem(t *testing.T) {
	t.Parallel()
	var logs syncBuffer
	h := requestID(zerolog.New(&logs))(recoverer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {
		panic("nil map in handler with card 4111-1111")
	})))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/v1/orders", nil))
	if rec.Code != 500 || strings.Contains(rec.Body.String(), "4111") {
		t.Errorf("answer %d: %s", rec.Code, rec.Body)
	}
	p := validateProblem(t, rec.Header().Get("Content-Type"), rec.Body.Bytes())
	if p.Code != problem.CodeInternal {
		t.Errorf("code = %s", p.Code)
	}
	if !strings.Contains(logs.String(), "4111") || !strings.Contains(logs.String(), "goroutine") {
		t.Errorf("the panic and its stack were not logged:\n%s", logs.String())
	}
}

func TestRecovererLetsAbortThrough(t *testing.T) {
	t.Parallel()
	h := recoverer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { panic(http.ErrAbortHandler) }))
	defer func() {
		if rec := recover(); rec != http.ErrAbortHandler {
			t.Errorf("recovered %v, want http.ErrAbortHandler re-panicked", rec)
		}
	}()
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/", nil))
}

// TestProblemCodesMatchOpenAPI keeps the codes the server can answer with
// and the spec's ProblemCode enum the same set.
func TestProblemCodesMatchOpenAPI(t *testing.T) {
	t.Parallel()
	doc, err := loadSpec()
	if err != nil {
		t.Fatal(err)
	}
	var inSpec []string
	for _, v := range doc.Components.Schemas["ProblemCode"].Value.Enum {
		inSpec = append(inSpec, v.(string))
	}
	var served []string
	for code := range problem.Titles {
		served = append(served, code)
	}
	if !sameSet(inSpec, served) {
		t.Errorf("spec codes %v\nserved codes %v", inSpec, served)
	}
	// Every domain sentinel has a title, so its Problem reads well.
	for _, e := range []*order.Error{order.ErrNotFound, order.ErrNotDraft, order.ErrNotPlaced, order.ErrNotShipped,
		order.ErrAlreadyCancelled, order.ErrNotCancellable, order.ErrDuplicateProduct, order.ErrItemNotInOrder,
		order.ErrEmpty, order.ErrTooManyItems, order.ErrTotalOutOfRange, order.ErrHistoryFull} {
		if _, ok := problem.Titles[e.Code]; !ok {
			t.Errorf("no title for %s", e.Code)
		}
	}
}

// A request whose client went away is recorded as 499, not as the 503
// of a database that cannot be reached.
func TestAClientThatLeftIsNotAnOutage(t *testing.T) {
	t.Parallel()
	// Given a request whose client has gone
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	r := httptest.NewRequest("POST", "/v1/orders", nil).WithContext(ctx)
	w := httptest.NewRecorder()
	// When its work ends with the cancellation
	problem.Write(w, r, fmt.Errorf("append: %w", context.Canceled))
	// Then 499 is recorded, with no Problem document
	if w.Code != problem.StatusClientClosedRequest || w.Body.Len() != 0 {
		t.Errorf("status %d, body %q; want 499 and none", w.Code, w.Body)
	}
	// While the request's own deadline is still a 503
	ctx, cancel = context.WithTimeout(context.Background(), 0)
	defer cancel()
	w = httptest.NewRecorder()
	problem.Write(w, httptest.NewRequest("POST", "/v1/orders", nil).WithContext(ctx), context.DeadlineExceeded)
	if w.Code != http.StatusServiceUnavailable {
		t.Errorf("a deadline: status %d, want 503", w.Code)
	}
}
