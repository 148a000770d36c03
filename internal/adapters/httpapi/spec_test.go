package httpapi

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/legacy"
	"github.com/orderapi/orderapi/api"
	"github.com/orderapi/orderapi/internal/adapters/httpapi/problem"
)

// loadSpec parses api/openapi.yaml once per test binary. kin-openapi does
// not check the uuid format by itself; the API writes canonical lower-case
// UUIDs, so that is what the tests hold it to. Nor does it read the
// bodies of the media types only the API reference serves.
var loadSpec = sync.OnceValues(func() (*openapi3.T, error) {
	openapi3.DefineStringFormatValidator("uuid", openapi3.NewRegexpFormatValidator(
		`^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`))
	// The pages' documents and files (the API reference's, the
	// console's): their bodies are checked as the text or bytes they are.
	for _, mt := range []string{"text/html", "text/javascript", "text/css", "image/svg+xml"} {
		openapi3filter.RegisterBodyDecoder(mt, openapi3filter.PlainBodyDecoder)
	}
	openapi3filter.RegisterBodyDecoder("image/png", openapi3filter.FileBodyDecoder)
	doc, err := openapi3.NewLoader().LoadFromData(api.OpenAPI)
	if err != nil {
		return nil, fmt.Errorf("load api/openapi.yaml: %w", err)
	}
	if err := doc.Validate(context.Background()); err != nil {
		return nil, fmt.Errorf("validate api/openapi.yaml: %w", err)
	}
	// Match paths whatever host the test server listens on.
	doc.Servers = nil
	return doc, nil
})

var loadRouter = sync.OnceValues(func() (routers.Router, error) {
	doc, err := loadSpec()
	if err != nil {
		return nil, err
	}
	return legacy.NewRouter(doc)
})

// specTransport checks every exchange against the spec: the request (a
// request the spec rejects must get a 4xx, never a success) and the
// response (status documented, headers, content type and body matching).
// Answers for paths or methods the spec does not have (404 and 405, CORS
// preflights) are checked against the problem schema or for emptiness, so
// no response escapes.
type specTransport struct {
	t    testing.TB
	next http.RoundTripper
	// token is sent as a bearer token by every request that carries no
	// Authorization header of its own; "" sends none.
	token string
}

// specClient returns an HTTP client whose every response is checked, and
// that acts as staff.
func specClient(t testing.TB) *http.Client {
	return specClientAs(t, staffToken)
}

// specClientAs is specClient acting with token; "" sends none.
func specClientAs(t testing.TB, token string) *http.Client {
	return &http.Client{Transport: &specTransport{t: t, next: http.DefaultTransport, token: token}}
}

func (st *specTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if st.token != "" && len(req.Header.Values("Authorization")) == 0 {
		// A RoundTripper must not change the request it is given.
		req = req.Clone(req.Context())
		req.Header.Set("Authorization", "Bearer "+st.token)
	}
	var reqBody []byte
	if req.Body != nil {
		var err error
		if reqBody, err = io.ReadAll(req.Body); err != nil {
			return nil, err
		}
		_ = req.Body.Close()
		req.Body = io.NopCloser(bytes.NewReader(reqBody))
	}
	router, err := loadRouter()
	if err != nil {
		st.t.Errorf("spec: %v", err)
		return nil, err
	}

	route, params, routeErr := router.FindRoute(req)
	var reqErr error
	var input *openapi3filter.RequestValidationInput
	if routeErr == nil {
		check := req.Clone(req.Context())
		check.Body = io.NopCloser(bytes.NewReader(reqBody))
		input = &openapi3filter.RequestValidationInput{
			Request: check, PathParams: params, Route: route,
			Options: &openapi3filter.Options{AuthenticationFunc: openapi3filter.NoopAuthenticationFunc},
		}
		reqErr = openapi3filter.ValidateRequest(req.Context(), input)
	}

	resp, err := st.next.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	if isEventStream(resp) {
		// A live feed does not end, so its body cannot be read here: its
		// status and headers are checked now, and each message's data by
		// the test that reads the stream (see sseStream).
		st.checkEventStream(req, input, routeErr, resp)
		return resp, nil
	}
	respBody, err := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	if err != nil {
		return nil, err
	}
	resp.Body = io.NopCloser(bytes.NewReader(respBody))

	what := req.Method + " " + req.URL.RequestURI()
	if routeErr != nil {
		if err := checkUnrouted(req, resp, respBody); err != nil {
			st.t.Errorf("%s → %d: %v\nbody: %s", what, resp.StatusCode, err, respBody)
		}
		return resp, nil
	}
	if reqErr != nil && resp.StatusCode < 400 {
		st.t.Errorf("%s: the spec rejects the request (%v) but the server answered %d", what, reqErr, resp.StatusCode)
	}
	// A HEAD answer has the headers of the GET's, Content-Type included,
	// and no body at all.
	head := req.Method == http.MethodHead
	if head && len(respBody) != 0 {
		st.t.Errorf("%s → %d with a body of %d bytes", what, resp.StatusCode, len(respBody))
	}
	if err := openapi3filter.ValidateResponse(req.Context(), &openapi3filter.ResponseValidationInput{
		RequestValidationInput: input,
		Status:                 resp.StatusCode,
		Header:                 resp.Header,
		Body:                   io.NopCloser(bytes.NewReader(respBody)),
		Options:                &openapi3filter.Options{IncludeResponseStatus: true, MultiError: true, ExcludeResponseBody: head},
	}); err != nil {
		st.t.Errorf("%s → %d: response does not match the spec: %v\nbody: %s", what, resp.StatusCode, err, respBody)
	}
	if err := checkDeclared(input, resp, declaredHeaders...); err != nil {
		st.t.Errorf("%s → %d: %v", what, resp.StatusCode, err)
	}
	if resp.StatusCode == http.StatusNotModified {
		// kin-openapi skips 304s; the spec says: ETag, no body.
		if len(respBody) != 0 || resp.Header.Get("ETag") == "" {
			st.t.Errorf("%s → 304 with body %q and ETag %q", what, respBody, resp.Header.Get("ETag"))
		}
	}
	return resp, nil
}

// declaredHeaders are headers an answer may carry only where the spec
// declares them: kin-openapi checks the headers a response declares, not
// the ones it carries besides. A client learns from the spec on which
// answers to look for which database answered a read.
var declaredHeaders = []string{"X-Read-Source", "X-Read-Lag-Seconds"}

// checkDeclared fails when resp carries one of names that the spec's
// response for its status does not declare.
func checkDeclared(input *openapi3filter.RequestValidationInput, resp *http.Response, names ...string) error {
	spec := input.Route.Operation.Responses.Status(resp.StatusCode)
	for _, name := range names {
		if resp.Header.Get(name) == "" {
			continue
		}
		if spec == nil || spec.Value == nil || spec.Value.Headers[name] == nil {
			return fmt.Errorf("header %s: %q, which the spec does not declare on this response", name, resp.Header.Get(name))
		}
	}
	return nil
}

// checkUnrouted checks an answer to a request the spec has no operation
// for: a CORS preflight (200, empty), or a 404/405 problem.
func checkUnrouted(req *http.Request, resp *http.Response, body []byte) error {
	if req.Method == http.MethodOptions && req.Header.Get("Access-Control-Request-Method") != "" {
		if resp.StatusCode != http.StatusOK || len(body) != 0 {
			return fmt.Errorf("preflight answered %d with %d bytes", resp.StatusCode, len(body))
		}
		return nil
	}
	doc, err := loadSpec()
	if err != nil {
		return err
	}
	var ref string
	switch resp.StatusCode {
	case http.StatusNotFound:
		ref = "NotFound"
	case http.StatusMethodNotAllowed:
		ref = "MethodNotAllowed"
	default:
		return fmt.Errorf("a path or method outside the spec must answer 404 or 405")
	}
	spec := doc.Components.Responses[ref].Value
	for name, h := range spec.Headers {
		if h.Value.Required && resp.Header.Get(name) == "" {
			return fmt.Errorf("header %s missing", name)
		}
	}
	if ct := resp.Header.Get("Content-Type"); ct != "application/problem+json" {
		return fmt.Errorf("Content-Type %q", ct)
	}
	var v any
	if err := json.Unmarshal(body, &v); err != nil {
		return err
	}
	return spec.Content.Get("application/problem+json").Schema.Value.VisitJSON(v)
}

// validateProblem checks a problem written outside a served exchange (unit
// tests of middleware) against the spec's Problem schema.
func validateProblem(t *testing.T, contentType string, body []byte) problem.Problem {
	t.Helper()
	doc, err := loadSpec()
	if err != nil {
		t.Fatal(err)
	}
	if contentType != "application/problem+json" {
		t.Errorf("Content-Type = %q, want application/problem+json", contentType)
	}
	var v any
	if err := json.Unmarshal(body, &v); err != nil {
		t.Fatalf("problem is not JSON: %v: %s", err, body)
	}
	if err := doc.Components.Schemas["Problem"].Value.VisitJSON(v); err != nil {
		t.Errorf("problem does not match the spec: %v\n%s", err, body)
	}
	var p problem.Problem
	dec := json.NewDecoder(strings.NewReader(string(body)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&p); err != nil {
		t.Fatalf("decode problem: %v", err)
	}
	return p
}
