package webui

import (
	"bytes"
	"maps"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// TestConsoleServesThePage: the console is at /console and /console/, as
// HTML with a policy of its own, and asks browsers to check again before
// reusing it.
func TestConsoleServesThePage(t *testing.T) {
	t.Parallel()
	index, _ := consoleFiles.ReadFile("console/index.html")
	for _, path := range []string{"/console", "/console/"} {
		// When the page is asked for
		r := serve(t, "GET", path)
		// Then it is the embedded page, with its headers
		if r.Code != http.StatusOK || !bytes.Equal(r.Body.Bytes(), index) || len(index) == 0 {
			t.Fatalf("GET %s = %d, %d bytes", path, r.Code, r.Body.Len())
		}
		for name, v := range map[string]string{
			"Content-Type":            "text/html; charset=utf-8",
			"Content-Security-Policy": consoleCSP,
			"Cache-Control":           "no-cache",
			"Content-Length":          strconv.Itoa(len(index)),
		} {
			if got := r.Header().Values(name); len(got) != 1 || got[0] != v {
				t.Errorf("GET %s: %s %q, want %q", path, name, got, v)
			}
		}
	}
}

// TestConsolePolicyIsStrict: the console's policy allows its own
// modules, styles and icon and requests to the service, no inline script
// or style, no eval, and no form sent anywhere.
func TestConsolePolicyIsStrict(t *testing.T) {
	t.Parallel()
	checkPolicy(t, consoleCSP, map[string]string{"style-src": "'self'", "img-src": "'self'", "form-action": "'none'"})
}

// TestConsolePageHasNothingThePolicyRefuses: the document has no inline
// script, style or handler, and loads only the console's own files.
func TestConsolePageHasNothingThePolicyRefuses(t *testing.T) {
	t.Parallel()
	checkPage(t, string(console().index.body), "/console/")
}

// TestConsoleScriptsKeepToThePolicy: the modules build the page from
// text, never from HTML; set no style attribute (the policy refuses it,
// and the browser says so in its console); evaluate no code; keep no token
// in localStorage; call nothing but the service; and import only files
// the console serves. Every file is loaded by the page or a module.
func TestConsoleScriptsKeepToThePolicy(t *testing.T) {
	t.Parallel()
	loaded := map[string]bool{}
	for _, m := range regexp.MustCompile(`(?:src|href)="/console/([^"]+)"`).FindAllStringSubmatch(string(console().index.body), -1) {
		loaded[m[1]] = true
	}
	imports := regexp.MustCompile(`(?m)^import .* from '([^']+)';$`)
	for name, f := range console().assets {
		if !strings.HasSuffix(name, ".js") {
			continue
		}
		src := string(f.body)
		for what, re := range map[string]string{
			"HTML from text":        `innerHTML|outerHTML|insertAdjacentHTML|document\.write|DOMParser|createContextualFragment`,
			"a style attribute":     `setAttribute\(\s*'style'|\.style\b|\bstyle:`,
			"code from text":        `\beval\(|new Function|setTimeout\(\s*['"\x60]|setInterval\(\s*['"\x60]`,
			"long-lived storage":    `localStorage|indexedDB|document\.cookie`,
			"another origin":        `https?://`,
			"a module from outside": `from '[^.]|import\(`,
		} {
			if m := regexp.MustCompile(re).FindString(src); m != "" {
				t.Errorf("%s has %s: %q", name, what, m)
			}
		}
		for _, m := range imports.FindAllStringSubmatch(src, -1) {
			imported := strings.TrimPrefix(m[1], "./")
			loaded[imported] = true
			if _, ok := console().assets[imported]; !ok || imported == m[1] {
				t.Errorf("%s imports %q, which the console does not serve beside it", name, m[1])
			}
		}
	}
	if served := slices.Sorted(maps.Keys(console().assets)); !slices.Equal(served, slices.Sorted(maps.Keys(loaded))) {
		t.Errorf("the console serves %v; the page and its modules load %v", served, slices.Sorted(maps.Keys(loaded)))
	}
}

// TestConsoleServesItsAssets: each file under /console/ has its media
// type, is the embedded file, and keeps the API's policy (opened by
// itself, it runs nothing).
func TestConsoleServesItsAssets(t *testing.T) {
	t.Parallel()
	want := map[string]string{
		"app.js": js, "api.js": js, "describe.js": js, "dom.js": js, "live.js": js, "order.js": js,
		"session.js": js, "stream.js": js, "console.css": css, "icon.svg": "image/svg+xml",
	}
	if got, names := slices.Sorted(maps.Keys(console().assets)), slices.Sorted(maps.Keys(want)); !slices.Equal(got, names) {
		t.Fatalf("assets %v, want %v", got, names)
	}
	for name, contentType := range want {
		embedded, _ := consoleFiles.ReadFile("console/" + name)
		r := serve(t, "GET", "/console/"+name)
		if r.Code != http.StatusOK || !bytes.Equal(r.Body.Bytes(), embedded) || len(embedded) == 0 {
			t.Errorf("GET /console/%s = %d, %d bytes; want the %d bytes embedded", name, r.Code, r.Body.Len(), len(embedded))
		}
		if got := r.Header().Get("Content-Type"); got != contentType {
			t.Errorf("GET /console/%s: Content-Type %q, want %q", name, got, contentType)
		}
		if got := r.Header().Get("Cache-Control"); got != "no-cache" || r.Header().Get("ETag") == "" {
			t.Errorf("GET /console/%s: Cache-Control %q, ETag %q", name, got, r.Header().Get("ETag"))
		}
		if got := r.Header().Get("Content-Security-Policy"); got != "" {
			t.Errorf("GET /console/%s: Content-Security-Policy %q set by the page", name, got)
		}
	}
}
