package httpapi

import (
	"net/http"
	"strings"

	"github.com/go-chi/chi/v5"
	"github.com/orderapi/orderapi/internal/adapters/httpapi/problem"
)

// handleNotFound answers paths no route matches with a problem, like every
// other error of the API.
func handleNotFound() http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		problem.Write(w, r, problem.Request(http.StatusNotFound, problem.CodeRouteNotFound, "there is no resource at this path; /openapi.yaml lists the API's paths"))
	}
}

// routeMethods are the methods the API's routes use; every GET route
// answers HEAD too, so Allow names it.
var routeMethods = []string{http.MethodGet, http.MethodHead, http.MethodPost, http.MethodDelete}

// handleMethodNotAllowed answers a known path with an unsupported method.
// chi does not hand a custom handler the allowed methods, so they are
// found by asking the router, for the Allow header RFC 9110 requires.
func handleMethodNotAllowed(routes chi.Routes) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		path := r.URL.RawPath
		if path == "" {
			path = r.URL.Path
		}
		var allow []string
		for _, m := range routeMethods {
			if routes.Match(chi.NewRouteContext(), m, path) {
				allow = append(allow, m)
			}
		}
		if len(allow) == 0 {
			// chi also lands here for methods it does not know at all.
			handleNotFound()(w, r)
			return
		}
		w.Header().Set("Allow", strings.Join(allow, ", "))
		problem.Write(w, r, problem.Request(http.StatusMethodNotAllowed, problem.CodeMethodNotAllowed, r.Method+" is not supported here; use "+strings.Join(allow, ", ")))
	}
}
