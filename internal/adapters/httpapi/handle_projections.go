package httpapi

import (
	"net/http"

	"github.com/orderapi/orderapi/internal/adapters/cursor"
	"github.com/orderapi/orderapi/internal/adapters/httpapi/problem"
	"github.com/orderapi/orderapi/internal/app"
)

// handleProjections reports every projection's progress, for operators.
func handleProjections(svc *app.Service, cursors *cursor.Signer) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		report, err := svc.Projections(r.Context())
		if err != nil {
			problem.Write(w, r, err)
			return
		}
		w.Header().Set("Cache-Control", "no-store")
		writeJSON(w, r, http.StatusOK, toProjectionsJSON(report, cursors))
	})
}
