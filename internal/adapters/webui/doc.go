// Package webui serves orderapi's pages for browsers, each from files
// embedded in the binary, so that a page loads nothing from elsewhere and
// building the binary needs no Node.js:
//
//   - Docs: the API reference at /docs, Swagger UI over the service's own
//     /openapi.yaml, where a developer can authorize with a bearer token
//     and try each operation against the same service.
//   - Console: the console at /console for support and operations staff,
//     an order's events as a timeline, the order at any of them, and the
//     global feed live, all through the API with its user's bearer token.
//     Plain HTML, CSS and JavaScript modules, served as written.
//
// A page is one http.Handler that httpapi's route table mounts at its path
// (/docs, and /docs/) and at its assets' path (/docs/{asset}). The page's
// answers carry a Content-Security-Policy of their own, as strict as the
// page allows: the API's, default-src 'none', would refuse the page
// everything. Swagger UI is vendored under docs/swagger-ui by
// `make swagger-ui`, at the version pinned in vendor/package-lock.json.
package webui
