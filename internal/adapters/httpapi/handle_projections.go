package httpapi

import (
	"context"
	"net/http"

	"github.com/orderapi/orderapi/internal/adapters/cursor"
	"github.com/orderapi/orderapi/internal/app"
)

type projectionsReader interface {
	Projections(ctx context.Context) (app.ProjectionsReport, error)
}

// handleProjections reports every projection's progress, for operators.
func handleProjections(svc projectionsReader, cursors *cursor.Signer) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		report, err := svc.Projections(r.Context())
		if err != nil {
			writeError(w, r, err)
			return
		}
		w.Header().Set("Cache-Control", "no-store")
		writeJSON(w, r, http.StatusOK, toProjectionsJSON(report, cursors))
	})
}
