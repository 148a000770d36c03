// Package problem answers errors as RFC 9457 problem details: the codes
// of the API, their titles, and the one mapping from an error to its
// HTTP status.
package problem

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"

	"github.com/orderapi/orderapi/internal/app"
	"github.com/orderapi/orderapi/internal/domain/order"
	"github.com/rs/zerolog/hlog"
)

// StatusClientClosedRequest is the status recorded for a request whose
// client left before its answer: 499, as nginx and others log it. No
// client ever receives it.
const StatusClientClosedRequest = 499

// TypeBase prefixes every problem's code to form its type URI. The
// URI identifies the kind of problem; it need not resolve.
const TypeBase = "https://orderapi.dev/problems/"

// Problem is an RFC 9457 problem details document. Code is the stable,
// machine-readable name clients switch on; Type is the same as a URI.
type Problem struct {
	Type      string         `json:"type"`
	Title     string         `json:"title"`
	Status    int            `json:"status"`
	Detail    string         `json:"detail"`
	Code      string         `json:"code"`
	RequestID string         `json:"request_id"`
	Errors    []FieldProblem `json:"errors,omitempty"`
	// retryAfter, when positive, is the Retry-After of the answer, in
	// seconds.
	retryAfter int64
}

// FieldProblem names one invalid input field by its JSON name.
type FieldProblem struct {
	Field   string `json:"field"`
	Code    string `json:"code"`
	Message string `json:"message"`
}

// requestError is a problem the HTTP layer finds itself: syntax, media
// type, size, headers, routing.
type requestError struct {
	status int
	code   string
	detail string
}

func (e *requestError) Error() string { return e.code + ": " + e.detail }

// TooManyRequests refuses a caller over its rate: 429 rate_limited, with
// Retry-After.
type TooManyRequests struct {
	Detail     string
	RetryAfter int64 // seconds
}

func (e *TooManyRequests) Error() string { return e.Detail }

// Request is an error the HTTP layer finds itself, answered with status.
func Request(status int, code, detail string) error {
	return &requestError{status: status, code: code, detail: detail}
}

// BadRequest is a Request error with status 400.
func BadRequest(code, detail string) error {
	return Request(http.StatusBadRequest, code, detail)
}

// From is the one place that decides the HTTP status of an error.
// internal reports an error the client cannot have caused; it must be
// logged and its text never shown.
func From(err error) (p Problem, internal bool) {
	var (
		re *requestError
		le *TooManyRequests
		oe *order.Error
		ae *app.Error
		ve *app.VersionOutOfRangeError
		ue *app.UnreadableEventError
	)
	switch {
	case errors.As(err, &ue):
		// Not the client's doing and no retry helps: logged as internal,
		// and said plainly, since only the service's own data is named.
		return New(http.StatusInternalServerError, app.ErrEventUnreadable.Code,
			fmt.Sprintf("%s cannot be read by this build of the service; operators are alerted", ue.Name())), true
	case errors.As(err, &re):
		return New(re.status, re.code, re.detail), false
	case errors.As(err, &le):
		p := New(http.StatusTooManyRequests, CodeRateLimited, le.Detail)
		p.retryAfter = le.RetryAfter
		return p, false
	case errors.As(err, &oe):
		return orderProblem(oe), false
	case errors.As(err, &ve):
		// Only ?version= names a version to read: it is that field's
		// problem, like any other invalid field.
		versions := "versions"
		if ve.Latest == 1 {
			versions = "version"
		}
		return orderProblem(&order.Error{Kind: order.KindInvalid, Code: order.CodeValidation, Fields: []order.FieldError{{
			Field: "version", Code: order.FieldOutOfRange,
			Message: fmt.Sprintf("must be between 1 and %d: the order has %d %s", ve.Latest, ve.Latest, versions),
		}}}), false
	case errors.As(err, &ae):
		if status, ok := appStatus[ae.Code]; ok {
			return New(status, ae.Code, ae.Message), false
		}
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, context.Canceled):
		// The request ran out of time, most likely waiting for the
		// database: worth a retry, unlike a 500.
		return New(http.StatusServiceUnavailable, CodeUnavailable,
			"the service could not complete the request in time; retry later"), false
	}
	return New(http.StatusInternalServerError, CodeInternal,
		"an internal error occurred; quote the request_id when reporting it"), true
}

// appStatus maps the app's error codes; an app code missing here is a 500,
// so that a new one is noticed rather than guessed at.
var appStatus = map[string]int{
	app.ErrPreconditionFailed.Code: http.StatusPreconditionFailed,
	app.ErrRetriesExhausted.Code:   http.StatusConflict,
	app.ErrExists.Code:             http.StatusConflict,
	app.ErrUnavailable.Code:        http.StatusServiceUnavailable,
	app.ErrProjectionLagging.Code:  http.StatusServiceUnavailable,
	app.ErrReadOnly.Code:           http.StatusServiceUnavailable,
	// Not a 503: that says "not done, retry", and a blind retry could
	// do the work twice.
	app.ErrOutcomeUnknown.Code: http.StatusInternalServerError,

	// The server's own configuration (sealing off, a development mode)
	// forbids it: no retry helps.
	app.ErrPersonalDataNotSealed.Code: http.StatusConflict,

	app.ErrIdempotencyKeyReused.Code:     http.StatusUnprocessableEntity,
	app.ErrIdempotencyKeyInProgress.Code: http.StatusConflict,

	// A min_position no event has nor will have: no retry helps.
	app.ErrUnknownPosition.Code: http.StatusUnprocessableEntity,

	app.ErrUnauthenticated.Code: http.StatusUnauthorized,
	app.ErrInvalidToken.Code:    http.StatusUnauthorized,
	app.ErrForbidden.Code:       http.StatusForbidden,
	// The keys that verify tokens are not loaded yet: says nothing about
	// the token, and a retry may succeed.
	app.ErrAuthUnavailable.Code: http.StatusServiceUnavailable,
}

func orderProblem(e *order.Error) Problem {
	switch e.Kind {
	case order.KindInvalid:
		p := New(http.StatusUnprocessableEntity, e.Code, "the request has invalid fields; see errors")
		for _, f := range e.Fields {
			p.Errors = append(p.Errors, FieldProblem(f))
		}
		return p
	case order.KindNotFound:
		return New(http.StatusNotFound, e.Code, e.Message)
	default:
		return New(http.StatusConflict, e.Code, e.Message)
	}
}

// New is the problem of status with code, its title from Titles.
func New(status int, code, detail string) Problem {
	title, ok := Titles[code]
	if !ok {
		title = http.StatusText(status)
	}
	return Problem{Type: TypeBase + code, Title: title, Status: status, Detail: detail, Code: code}
}

// Write answers with the problem for err. The request's logger
// records internal errors, once, with the request id hlog attached; and
// as warnings, which follow from the database's state rather than a
// fault of the service, the cause of a 503 (a timeout, a database that
// cannot be reached or takes no writes), which the client is told nothing
// about, and a command whose outcome is unknown (the database went away
// under it), which the client is told how to settle.
func Write(w http.ResponseWriter, r *http.Request, err error) {
	if errors.Is(err, context.Canceled) && errors.Is(r.Context().Err(), context.Canceled) {
		// The client went away mid-request: no one reads the answer, and
		// nothing failed on the service's side. The status proxies record
		// for it keeps such requests out of the 503s an outage shows as.
		hlog.FromRequest(r).Debug().Err(err).Msg("the client closed the request")
		w.WriteHeader(StatusClientClosedRequest)
		return
	}
	p, internal := From(err)
	switch {
	case internal:
		hlog.FromRequest(r).Error().Err(err).Msg("request failed")
	case p.Code == app.ErrOutcomeUnknown.Code:
		hlog.FromRequest(r).Warn().Err(err).Msg("command sent, outcome unknown; the client must read the order or repeat it with its key")
	case p.Code == CodeUnavailable, p.Code == app.ErrReadOnly.Code, p.Code == app.ErrAuthUnavailable.Code:
		hlog.FromRequest(r).Warn().Err(err).Msg("unavailable; the client may retry")
	}
	WriteProblem(w, r, p)
}

// WriteProblem answers with p.
func WriteProblem(w http.ResponseWriter, r *http.Request, p Problem) {
	// The request id middleware has named the request in the answer
	// already.
	p.RequestID = w.Header().Get("X-Request-Id")
	// A problem is plain strings and ints: marshalling cannot fail.
	body, _ := json.Marshal(p)
	h := w.Header()
	// A problem replaces whatever the handler meant to answer.
	h.Del("ETag")
	h.Del("Location")
	h.Del("X-Event-Position")
	h.Del("Idempotent-Replayed")
	h.Set("Content-Type", "application/problem+json")
	h.Set("Cache-Control", "no-store")
	if c := challenge(p); c != "" {
		h.Set("WWW-Authenticate", c)
	}
	switch {
	case p.retryAfter > 0:
		h.Set("Retry-After", strconv.FormatInt(p.retryAfter, 10))
	case p.Status == http.StatusServiceUnavailable || p.Status == http.StatusTooManyRequests:
		// A short, fixed hint: outages here are a database restart or a
		// failover, seconds long; a limit costs the retry nothing.
		h.Set("Retry-After", "1")
	}
	w.WriteHeader(p.Status)
	_, _ = w.Write(body)
}
