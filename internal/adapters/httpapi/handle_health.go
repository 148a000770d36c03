package httpapi

import (
	"context"
	"errors"
	"net/http"

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

// handleReady is readiness: whether this instance should get traffic. The
// reason for a failure is logged; it is shown only when it says so (a
// PublicReason method), as others may name hosts.
func handleReady(ready func(context.Context) error) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := ready(r.Context()); err != nil {
			hlog.FromRequest(r).Warn().Err(err).Msg("not ready")
			detail := "the service cannot serve requests yet"
			var public interface{ PublicReason() string }
			if errors.As(err, &public) {
				detail += ": " + public.PublicReason()
			}
			writeError(w, r, &requestError{status: http.StatusServiceUnavailable, code: codeNotReady, detail: detail})
			return
		}
		writeJSON(w, r, http.StatusOK, statusJSON{Status: "ok"})
	})
}
