package webui

import (
	"bytes"
	"encoding/json"
	"maps"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// reply is a finished exchange.
type reply struct {
	Code   int
	header http.Header
	Body   *bytes.Buffer
}

func (r reply) Header() http.Header { return r.header }

// serve mounts the pages as httpapi's route table does, on the standard
// mux (which sets the path value the handler reads), behind a real server
// (a HEAD answer's body is dropped there), and sends one request.
func serve(t *testing.T, method, path string, headers ...string) reply {
	t.Helper()
	mux := http.NewServeMux()
	for at, page := range map[string]http.Handler{"/docs": Docs(), "/console": Console()} {
		for _, pattern := range []string{at, at + "/", at + "/{asset}"} {
			mux.Handle("GET "+pattern, page)
		}
	}
	srv := httptest.NewServer(mux)
	defer srv.Close()
	req, err := http.NewRequest(method, srv.URL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Add(headers[i], headers[i+1])
	}
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body bytes.Buffer
	if _, err := body.ReadFrom(resp.Body); err != nil {
		t.Fatal(err)
	}
	// Fields net/http adds to every answer.
	resp.Header.Del("Date")
	return reply{Code: resp.StatusCode, header: resp.Header, Body: &body}
}

// TestDocsServesThePage: the reference is at /docs and /docs/, as HTML
// with a policy of its own that refuses inline scripts, eval and every
// other origin, and asks browsers to check again before reusing it.
func TestDocsServesThePage(t *testing.T) {
	t.Parallel()
	for _, path := range []string{"/docs", "/docs/"} {
		// When the page is asked for
		r := serve(t, "GET", path)
		// Then it is the embedded page, with its headers
		if r.Code != http.StatusOK || !bytes.Equal(r.Body.Bytes(), docsIndex) {
			t.Fatalf("GET %s = %d, %d bytes", path, r.Code, r.Body.Len())
		}
		want := map[string]string{
			"Content-Type":            "text/html; charset=utf-8",
			"Content-Security-Policy": docsCSP,
			"Cache-Control":           "no-cache",
			"Content-Length":          strconv.Itoa(len(docsIndex)),
		}
		for name, v := range want {
			if got := r.Header().Values(name); len(got) != 1 || got[0] != v {
				t.Errorf("GET %s: %s %q, want %q", path, name, got, v)
			}
		}
		if etag := r.Header().Get("ETag"); !regexp.MustCompile(`^"[A-Za-z0-9_-]{24}"$`).MatchString(etag) {
			t.Errorf("GET %s: ETag %q, want a strong tag of the content", path, etag)
		}
	}
}

// TestDocsPolicyIsStrict: the page's policy allows scripts, styles and
// requests from the service alone, and no inline script or eval.
func TestDocsPolicyIsStrict(t *testing.T) {
	t.Parallel()
	checkPolicy(t, docsCSP, map[string]string{"form-action": "'self'"})
}

// checkPolicy fails unless csp allows scripts and requests from the
// service alone, no frame, no base, and what want adds, and nothing from
// elsewhere, inline script or eval.
func checkPolicy(t *testing.T, csp string, want map[string]string) {
	t.Helper()
	directives := map[string]string{}
	for d := range strings.SplitSeq(csp, ";") {
		name, value, _ := strings.Cut(strings.TrimSpace(d), " ")
		directives[name] = value
	}
	want = maps.Clone(want)
	for name, v := range map[string]string{
		"default-src":     "'none'",
		"script-src":      "'self'",
		"connect-src":     "'self'",
		"frame-ancestors": "'none'",
		"base-uri":        "'none'",
	} {
		want[name] = v
	}
	for name, v := range want {
		if directives[name] != v {
			t.Errorf("%s %q, want %q", name, directives[name], v)
		}
	}
	for name, v := range directives {
		if strings.Contains(v, "unsafe-eval") || strings.Contains(v, "*") || strings.Contains(v, "http") ||
			name == "script-src" && strings.Contains(v, "unsafe-inline") {
			t.Errorf("%s %q lets in more than the service's own files", name, v)
		}
	}
}

// TestDocsPageHasNothingThePolicyRefuses: no inline script or style, no
// event handler attribute; every file the page loads is served by Docs.
func TestDocsPageHasNothingThePolicyRefuses(t *testing.T) {
	t.Parallel()
	checkPage(t, string(docsIndex), "/docs/")
}

// checkPage fails if page holds what a strict policy refuses, or loads a
// file that is not served under prefix.
func checkPage(t *testing.T, page, prefix string) {
	t.Helper()
	for what, re := range map[string]string{
		"an inline script":       `<script(\s[^>]*)?>[^<]`,
		"a script without src":   `<script(\s+[^s>][^>]*)?>`,
		"a style element":        `<style`,
		"a style attribute":      `\sstyle\s*=`,
		"an event handler":       `\son[a-z]+\s*=`,
		"a javascript: URL":      `javascript:`,
		"a file from elsewhere":  `(src|href)\s*=\s*"(https?:)?//`,
		"a relative file's name": `(src|href)\s*=\s*"[^/#"]`,
	} {
		if m := regexp.MustCompile(`(?i)` + re).FindString(page); m != "" {
			t.Errorf("index.html has %s: %q", what, m)
		}
	}
	for _, m := range regexp.MustCompile(`(?:src|href)="(/[^"]+)"`).FindAllStringSubmatch(page, -1) {
		if !strings.HasPrefix(m[1], prefix) {
			continue
		}
		if r := serve(t, "GET", m[1]); r.Code != http.StatusOK {
			t.Errorf("index.html loads %s: %d", m[1], r.Code)
		}
	}
}

// TestDocsServesItsAssets: each file under /docs/ has its media type and
// is the embedded file.
func TestDocsServesItsAssets(t *testing.T) {
	t.Parallel()
	want := map[string]struct {
		contentType string
		body        []byte
	}{
		"init.js":                          {"text/javascript; charset=utf-8", docsInit},
		"docs.css":                         {"text/css; charset=utf-8", docsCSS},
		"swagger-ui-bundle.js":             {"text/javascript; charset=utf-8", swaggerUIBundle},
		"swagger-ui.css":                   {"text/css; charset=utf-8", swaggerUICSS},
		"favicon-32x32.png":                {"image/png", swaggerUIFavicon},
		"LICENSE":                          {"text/plain; charset=utf-8", swaggerUILicense},
		"NOTICE":                           {"text/plain; charset=utf-8", swaggerUINotice},
		"swagger-ui-bundle.js.LICENSE.txt": {"text/plain; charset=utf-8", swaggerUIBundleLicenses},
	}
	if got, names := slices.Sorted(maps.Keys(docs().assets)), slices.Sorted(maps.Keys(want)); !slices.Equal(got, names) {
		t.Fatalf("assets %v, want %v", got, names)
	}
	for name, w := range want {
		r := serve(t, "GET", "/docs/"+name)
		if r.Code != http.StatusOK || !bytes.Equal(r.Body.Bytes(), w.body) || len(w.body) == 0 {
			t.Errorf("GET /docs/%s = %d, %d bytes; want the %d bytes embedded", name, r.Code, r.Body.Len(), len(w.body))
		}
		if got := r.Header().Get("Content-Type"); got != w.contentType {
			t.Errorf("GET /docs/%s: Content-Type %q, want %q", name, got, w.contentType)
		}
		if got := r.Header().Get("Cache-Control"); got != "no-cache" || r.Header().Get("ETag") == "" {
			t.Errorf("GET /docs/%s: Cache-Control %q, ETag %q", name, got, r.Header().Get("ETag"))
		}
		// The API's own policy stays on the assets: opened by themselves,
		// they run nothing.
		if got := r.Header().Get("Content-Security-Policy"); got != "" {
			t.Errorf("GET /docs/%s: Content-Security-Policy %q set by the page", name, got)
		}
	}
}

// TestPagesHeadAnswersAsGet: HEAD gets GET's status and headers, without
// the body.
func TestPagesHeadAnswersAsGet(t *testing.T) {
	t.Parallel()
	for _, path := range []string{"/docs", "/docs/", "/docs/swagger-ui-bundle.js", "/docs/favicon-32x32.png", "/docs/nothing.js",
		"/console", "/console/", "/console/app.js", "/console/icon.svg", "/console/nothing.js"} {
		get, head := serve(t, "GET", path), serve(t, "HEAD", path)
		if head.Code != get.Code || head.Body.Len() != 0 {
			t.Errorf("HEAD %s = %d with %d bytes; GET %d", path, head.Code, head.Body.Len(), get.Code)
		}
		for name := range get.Header() {
			if name != "Content-Length" || get.Code == http.StatusOK {
				if g, h := get.Header().Values(name), head.Header().Values(name); !slices.Equal(g, h) {
					t.Errorf("HEAD %s: %s %q, GET %q", path, name, h, g)
				}
			}
		}
	}
}

// TestPagesRevalidate: a browser sending back the ETag it holds gets 304
// without a body, and the page's 304 keeps the page's policy.
func TestPagesRevalidate(t *testing.T) {
	t.Parallel()
	for _, path := range []string{"/docs", "/docs/init.js", "/console", "/console/app.js"} {
		// Given the file's ETag
		etag := serve(t, "GET", path).Header().Get("ETag")
		for _, inm := range []string{etag, "W/" + etag, `"other", ` + etag, "*"} {
			// When it is sent back
			r := serve(t, "GET", path, "If-None-Match", inm)
			// Then the file has not changed
			if r.Code != http.StatusNotModified || r.Body.Len() != 0 || r.Header().Get("ETag") != etag || r.Header().Get("Cache-Control") != "no-cache" {
				t.Errorf("GET %s with If-None-Match %s = %d, %d bytes, ETag %q", path, inm, r.Code, r.Body.Len(), r.Header().Get("ETag"))
			}
			if csp := map[string]string{"/docs": docsCSP, "/console": consoleCSP}[path]; r.Header().Get("Content-Security-Policy") != csp {
				t.Errorf("the page's 304: Content-Security-Policy %q", r.Header().Get("Content-Security-Policy"))
			}
		}
		// When another tag is sent, Then the file is sent
		if r := serve(t, "GET", path, "If-None-Match", `"other"`); r.Code != http.StatusOK || r.Body.Len() == 0 {
			t.Errorf("GET %s with another ETag = %d, %d bytes", path, r.Code, r.Body.Len())
		}
	}
}

// TestPagesRefuseOtherFiles: a name that is not one of the page's files
// is a 404 problem, whatever the vendored package or the console's folder
// holds beside them.
func TestPagesRefuseOtherFiles(t *testing.T) {
	t.Parallel()
	for _, path := range []string{"/docs/index.html", "/docs/swagger-ui-bundle.js.map", "/docs/swagger-ui-standalone-preset.js",
		"/docs/oauth2-redirect.html", "/docs/%2e%2e%2fgo.mod", "/docs/INIT.JS", "/docs/app.js",
		"/console/index.html", "/console/APP.JS", "/console/app.js.map", "/console/init.js", "/console/%2e%2e%2fconsole.go", "/console/.js"} {
		r := serve(t, "GET", path)
		var p struct {
			Status int    `json:"status"`
			Code   string `json:"code"`
		}
		if r.Code != http.StatusNotFound || r.Header().Get("Content-Type") != "application/problem+json" ||
			json.Unmarshal(r.Body.Bytes(), &p) != nil || p.Status != http.StatusNotFound || p.Code != "not_found" {
			t.Errorf("GET %s = %d %q: %s", path, r.Code, r.Header().Get("Content-Type"), r.Body)
		}
	}
}
