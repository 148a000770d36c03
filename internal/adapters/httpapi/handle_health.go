package httpapi

import (
	"context"
	"errors"
	"net/http"

	"github.com/orderapi/orderapi/internal/adapters/httpapi/problem"
	"github.com/rs/zerolog/hlog"
)

type statusJSON struct {
	Status string `json:"status"`
}

// handleHealth is liveness: answering at all is the signal, so it checks
// nothing that could make a busy instance look dead and get restarted.
func handleHealth() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, r, http.StatusOK, statusJSON{Status: "ok"})
	})
}

// ReadyDetail is something GET /readyz reports of a ready service: it
// wants an operator's attention, not less traffic (a projection stopped
// before an event it cannot decode, say). Code is stable; Detail is for
// people.
type ReadyDetail struct {
	Code   string `json:"code"`
	Detail string `json:"detail"`
}

type readyJSON struct {
	Status  string        `json:"status"`
	Details []ReadyDetail `json:"details,omitempty"`
}

// handleReady is readiness: whether this instance should get traffic. The
// reason for a failure is logged; it is shown only when it says so (a
// PublicReason method), as others may name hosts. A ready instance lists
// what details reports, if anything.
func handleReady(ready func(context.Context) error, details func(context.Context) []ReadyDetail) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := ready(r.Context()); err != nil {
			hlog.FromRequest(r).Warn().Err(err).Msg("not ready")
			detail := "the service cannot serve requests yet"
			var public interface{ PublicReason() string }
			if errors.As(err, &public) {
				detail += ": " + public.PublicReason()
			}
			problem.Write(w, r, problem.Request(http.StatusServiceUnavailable, problem.CodeNotReady, detail))
			return
		}
		doc := readyJSON{Status: "ok"}
		if details != nil {
			doc.Details = details(r.Context())
		}
		writeJSON(w, r, http.StatusOK, doc)
	})
}
