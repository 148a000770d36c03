package httpapi

import (
	"net/http"

	"github.com/orderapi/orderapi/api"
)

// handleOpenAPI serves the contract the server is tested against.
func handleOpenAPI() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/yaml")
		_, _ = w.Write(api.OpenAPI)
	})
}
