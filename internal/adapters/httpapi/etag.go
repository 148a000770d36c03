package httpapi

import (
	"errors"
	"net/http"
	"strconv"
	"strings"

	"github.com/orderapi/orderapi/internal/adapters/httpapi/problem"
	"github.com/orderapi/orderapi/internal/app"
	"github.com/orderapi/orderapi/internal/domain/order"
)

// etag is the entity tag of an order document: its version, quoted ("3"),
// while none of the personal data the document held is erased. An erasure
// changes the document but not the version, so an erased document's tag
// says so: "3-e", then a letter for each personal field it still shows
// (recorded after an earlier erasure, under the customer's new key, which
// the next erasure destroys too): a for shipping_address, s for signature,
// r for cancel_reason, as in "3-es". An erasure only ever empties fields,
// so each document a version can have has a tag of its own, and a copy
// cached before an erasure no longer matches: the tag is strong.
func etag(o *order.Order) string {
	return `"` + opaqueTag(o) + `"`
}

// opaqueTag is etag without its quotes.
func opaqueTag(o *order.Order) string {
	v := strconv.Itoa(o.Version)
	if !o.Erased {
		return v
	}
	tag := append([]byte(v), "-e"...)
	if o.ShippingAddress != nil {
		tag = append(tag, 'a')
	}
	if o.Signature != "" {
		tag = append(tag, 's')
	}
	if o.CancelReason != "" {
		tag = append(tag, 'r')
	}
	return string(tag)
}

// holdsPersonalData reports whether the document shows personal data,
// which an erasure will take out of it.
func holdsPersonalData(o *order.Order) bool {
	return o.ShippingAddress != nil || o.Signature != "" || o.CancelReason != ""
}

// entityTag is one parsed entity-tag (RFC 9110 §8.8.3), without quotes.
type entityTag struct {
	weak   bool
	opaque string
}

// expectedVersion reads If-Match into the version a command expects. No
// header or "*" is app.AnyVersion ("*" still needs the order to exist,
// which every command checks anyway). If-Match compares strongly and a
// command can expect one version, so only a single strong tag of this
// API's form is accepted; anything else is a 400 rather than a 412 that
// no retry could ever fix. Any tag of a version names it, erased or not:
// a command acts on the order's state, which an erasure leaves as it was,
// and needs none of the personal data it took.
func expectedVersion(r *http.Request) (int, error) {
	vs := r.Header.Values("If-Match")
	if len(vs) == 0 {
		return app.AnyVersion, nil
	}
	tags, star, err := parseETags(strings.Join(vs, ","))
	switch {
	case err != nil:
		return 0, problem.BadRequest(problem.CodeBadHeader, "If-Match: "+err.Error())
	case star:
		return app.AnyVersion, nil
	case len(tags) != 1:
		return 0, problem.BadRequest(problem.CodeBadHeader, `If-Match must name exactly one version, like "3"`)
	case tags[0].weak:
		return 0, problem.BadRequest(problem.CodeBadHeader, `If-Match compares strongly: send the ETag without W/`)
	}
	v, ok := versionOfTag(tags[0].opaque)
	if !ok {
		return 0, problem.BadRequest(problem.CodeBadHeader, `If-Match must be an ETag this API sent, like "3"`)
	}
	return v, nil
}

// notModified reports whether If-None-Match matches current, the opaque
// part of the answer's tag, by weak comparison (RFC 9110 §13.1.2): W/"3"
// and "3" both match "3", and neither matches "3-e", the same version
// erased.
func notModified(r *http.Request, current string) (bool, error) {
	vs := r.Header.Values("If-None-Match")
	if len(vs) == 0 {
		return false, nil
	}
	tags, star, err := parseETags(strings.Join(vs, ","))
	if err != nil {
		return false, problem.BadRequest(problem.CodeBadHeader, "If-None-Match: "+err.Error())
	}
	if star {
		return true, nil
	}
	for _, t := range tags {
		if t.opaque == current {
			return true, nil
		}
	}
	return false, nil
}

// versionOfTag reads the version out of the opaque part of a tag etag
// writes.
func versionOfTag(s string) (int, bool) {
	v, mark, erased := strings.Cut(s, "-")
	if erased && !isErasedMark(mark) {
		return 0, false
	}
	return parseVersion(v)
}

// isErasedMark reports whether s is what etag writes after an erased
// document's version: e, then any of a, s and r, in that order.
func isErasedMark(s string) bool {
	rest, ok := strings.CutPrefix(s, "e")
	for _, field := range []string{"a", "s", "r"} {
		rest, _ = strings.CutPrefix(rest, field)
	}
	return ok && rest == ""
}

// parseVersion accepts the versions this API issues: a positive decimal
// without leading zeros that fits an int32, as the store keeps it.
func parseVersion(s string) (int, bool) {
	if s == "" || s[0] == '0' || len(s) > 10 {
		return 0, false
	}
	v, err := strconv.ParseInt(s, 10, 32)
	if err != nil || v < 1 {
		return 0, false
	}
	return int(v), true
}

// parseETags parses "*" or a comma-separated list of entity tags, allowing
// the empty list elements and optional whitespace RFC 9110 §5.6.1 asks
// recipients to accept. A tag's characters may include commas, so the list
// is scanned rather than split.
func parseETags(s string) (tags []entityTag, star bool, err error) {
	if strings.TrimSpace(s) == "*" {
		return nil, true, nil
	}
	sep := true // at the start or after a comma: a tag may come
	for i := 0; i < len(s); {
		switch c := s[i]; {
		case c == ' ' || c == '\t':
			i++
			continue
		case c == ',':
			sep = true
			i++
			continue
		case !sep:
			return nil, false, errors.New("entity tags must be separated by commas")
		case c == '*':
			return nil, false, errors.New(`"*" must stand alone`)
		}
		var t entityTag
		if strings.HasPrefix(s[i:], "W/") {
			t.weak = true
			i += 2
		}
		if i >= len(s) || s[i] != '"' {
			return nil, false, errors.New(`an entity tag must be quoted, like "3"`)
		}
		end := i + 1
		for end < len(s) && s[end] != '"' {
			if !isETagChar(s[end]) {
				return nil, false, errors.New("invalid character in entity tag")
			}
			end++
		}
		if end >= len(s) {
			return nil, false, errors.New("unterminated entity tag")
		}
		t.opaque = s[i+1 : end]
		tags = append(tags, t)
		i, sep = end+1, false
	}
	if len(tags) == 0 {
		return nil, false, errors.New("no entity tag given")
	}
	return tags, false, nil
}

// isETagChar is etagc: %x21 / %x23-7E / obs-text.
func isETagChar(c byte) bool {
	return c == 0x21 || c >= 0x23 && c != 0x7f
}
