package webui

import (
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"strconv"
	"strings"

	"github.com/orderapi/orderapi/internal/adapters/httpapi/problem"
)

// page is a document and the assets it loads, each held in memory: what
// one handler answers at the page's path and under it.
type page struct {
	index file
	// csp is the Content-Security-Policy of the document's answers.
	csp    string
	assets map[string]file
}

// file is one answer's body, its media type and its entity tag.
type file struct {
	body        []byte
	contentType string
	etag        string
}

func newFile(body []byte, contentType string) file {
	sum := sha256.Sum256(body)
	return file{body: body, contentType: contentType, etag: `"` + base64.RawURLEncoding.EncodeToString(sum[:18]) + `"`}
}

// noCache is every file's Cache-Control. The names carry no version, so a
// browser must see a new build's files at once: it keeps them, and asks
// again with If-None-Match each time, which costs a 304.
const noCache = "no-cache"

// ServeHTTP answers the document when the path value "asset" is empty
// (the page's own path, with or without its slash), the asset it names,
// or a problem for any other name. It is mounted for GET and HEAD only.
func (p *page) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("asset")
	f, ok := p.index, true
	if name != "" {
		f, ok = p.assets[name]
	}
	if !ok {
		problem.Write(w, r, problem.Request(http.StatusNotFound, problem.CodeRouteNotFound, "there is no such file of this page"))
		return
	}
	h := w.Header()
	if name == "" {
		// On a 304 too: a browser updates the page it keeps with the
		// headers of the 304, and the API's policy would refuse it
		// everything.
		h.Set("Content-Security-Policy", p.csp)
	}
	h.Set("Cache-Control", noCache)
	h.Set("ETag", f.etag)
	if matches(r.Header.Values("If-None-Match"), f.etag) {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	h.Set("Content-Type", f.contentType)
	h.Set("Content-Length", strconv.Itoa(len(f.body)))
	if r.Method == http.MethodHead {
		return
	}
	_, _ = w.Write(f.body)
}

// matches reports whether an If-None-Match field holds etag, or "*",
// comparing weakly as RFC 9110 §13.1.2 asks: a W/ prefix is ignored.
func matches(fields []string, etag string) bool {
	for _, field := range fields {
		for tag := range strings.SplitSeq(field, ",") {
			tag = strings.TrimSpace(tag)
			if tag == "*" || strings.TrimPrefix(tag, "W/") == etag {
				return true
			}
		}
	}
	return false
}
