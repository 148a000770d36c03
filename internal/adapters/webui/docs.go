package webui

import (
	_ "embed"
	"net/http"
	"sync"
)

// The API reference's files. Each is named here, so that a missing one
// fails the build rather than a request.
var (
	//go:embed docs/index.html
	docsIndex []byte
	//go:embed docs/init.js
	docsInit []byte
	//go:embed docs/docs.css
	docsCSS []byte
	//go:embed docs/swagger-ui/swagger-ui-bundle.js
	swaggerUIBundle []byte
	//go:embed docs/swagger-ui/swagger-ui.css
	swaggerUICSS []byte
	//go:embed docs/swagger-ui/favicon-32x32.png
	swaggerUIFavicon []byte
	//go:embed docs/swagger-ui/LICENSE
	swaggerUILicense []byte
	//go:embed docs/swagger-ui/NOTICE
	swaggerUINotice []byte
	//go:embed docs/swagger-ui/swagger-ui-bundle.js.LICENSE.txt
	swaggerUIBundleLicenses []byte
)

// Media types of the pages' files.
const (
	html = "text/html; charset=utf-8"
	js   = "text/javascript; charset=utf-8"
	css  = "text/css; charset=utf-8"
	png  = "image/png"
	svg  = "image/svg+xml"
	text = "text/plain; charset=utf-8"
)

// docsCSP lets the reference run its own scripts and styles, and call the
// service it documents, and nothing else: no inline script, no eval, no
// other origin, no frame, no form sent elsewhere. img-src takes data:
// for the icons swagger-ui.css holds as data: URLs.
const docsCSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"

// Docs is the API reference: Swagger UI showing /openapi.yaml, with
// "Try it out" on, against the serving instance. Mount it at /docs, /docs/
// and /docs/{asset}.
func Docs() http.Handler { return docs() }

// docs hashes the files once per process, however many servers it makes.
var docs = sync.OnceValue(func() *page {
	return &page{
		index: newFile(docsIndex, html),
		csp:   docsCSP,
		assets: map[string]file{
			"init.js":              newFile(docsInit, js),
			"docs.css":             newFile(docsCSS, css),
			"swagger-ui-bundle.js": newFile(swaggerUIBundle, js),
			"swagger-ui.css":       newFile(swaggerUICSS, css),
			"favicon-32x32.png":    newFile(swaggerUIFavicon, png),
			// Swagger UI's licence and notice, and the notices of the
			// libraries in its bundle, go with the binary that carries it.
			"LICENSE":                          newFile(swaggerUILicense, text),
			"NOTICE":                           newFile(swaggerUINotice, text),
			"swagger-ui-bundle.js.LICENSE.txt": newFile(swaggerUIBundleLicenses, text),
		},
	}
})
