package webui

import (
	"embed"
	"net/http"
	"path"
	"sync"
)

// The console's files, each named, so that a missing one fails the build
// rather than a request. The scripts are JavaScript modules, loaded as
// they are written: there is no build step.
//
//go:embed console/index.html console/console.css console/icon.svg
//go:embed console/app.js console/api.js console/session.js console/stream.js
//go:embed console/describe.js console/order.js console/live.js console/dom.js
var consoleFiles embed.FS

// byExtension is the media type of each kind of file the console has.
var byExtension = map[string]string{".js": js, ".css": css, ".svg": svg}

// consoleCSP lets the console run its own modules and styles and call the
// service, and nothing else: no inline script or style, no eval, no other
// origin, no frame, and no form sent anywhere (its forms are read by its
// scripts).
const consoleCSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"

// Console is the console for support and operations staff: an order's
// events as a timeline, the order as it was at each, and the global feed
// live. It calls the API with the bearer token its user signs in with, so
// it can do what that token may and nothing more. Mount it at /console,
// /console/ and /console/{asset}.
func Console() http.Handler { return console() }

// console hashes the files once per process, however many servers it
// makes. index.html is the document; every other file is an asset. Reading
// an embedded file cannot fail: go:embed checked them at build time.
var console = sync.OnceValue(func() *page {
	p := &page{csp: consoleCSP, assets: map[string]file{}}
	entries, _ := consoleFiles.ReadDir("console")
	for _, e := range entries {
		body, _ := consoleFiles.ReadFile("console/" + e.Name())
		if e.Name() == "index.html" {
			p.index = newFile(body, html)
			continue
		}
		p.assets[e.Name()] = newFile(body, byExtension[path.Ext(e.Name())])
	}
	return p
})
