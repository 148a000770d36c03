package httpapi

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/orderapi/orderapi/internal/adapters/httpapi/problem"
)

// wellFormedQuery refuses a request whose query string net/url cannot
// read, 400 malformed_query, before its handler runs. net/url leaves out
// what it cannot read (a parameter holding ";" or a "%" that begins no
// escape; every parameter, past its limit on their number), so a handler
// would answer as if it had not been sent: the current order for
// ?version=1;, the feed from its start for an after= with a stray
// character. Handlers then read the query as r.URL.Query() gives it.
func wellFormedQuery(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.RawQuery != "" {
			if _, err := url.ParseQuery(r.URL.RawQuery); err != nil {
				problem.Write(w, r, problem.BadRequest(problem.CodeMalformedQuery, queryProblem(r.URL.RawQuery, err)))
				return
			}
		}
		next.ServeHTTP(w, r)
	})
}

// queryProblem says which parameter of raw net/url refused, with err, and
// why, as url.ParseQuery reads it: parameters separated by "&", each a
// name and a value separated by its first "=".
func queryProblem(raw string, err error) string {
	for part := range strings.SplitSeq(raw, "&") {
		name, value, _ := strings.Cut(part, "=")
		switch {
		case strings.Contains(part, ";"):
			return paramText(name, part) + ` holds ";", which does not separate parameters: send it as %3B, and separate parameters with &`
		case !unescapes(name), !unescapes(value):
			return paramText(name, part) + ` holds a "%" that begins no escape of two hexadecimal digits: send "%" itself as %25`
		}
	}
	return "the query string cannot be read: " + err.Error()
}

// paramText names the parameter whose text is part, by name when its name
// can be read.
func paramText(name, part string) string {
	if n, err := url.QueryUnescape(name); err == nil && !strings.Contains(n, ";") {
		return "query parameter " + quoteClipped(n) + ", sent as " + quoteClipped(part) + ","
	}
	return "the query string's " + quoteClipped(part)
}

func unescapes(s string) bool {
	_, err := url.QueryUnescape(s)
	return err == nil
}

// maxQuoted bounds how much of a client's text a problem quotes.
const maxQuoted = 64

// quoteClipped quotes s, clipped to maxQuoted bytes.
func quoteClipped(s string) string {
	if len(s) > maxQuoted {
		return strconv.Quote(s[:maxQuoted]) + "…"
	}
	return strconv.Quote(s)
}
