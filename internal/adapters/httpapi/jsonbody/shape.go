package jsonbody

import (
	"bytes"
	jsonv1 "encoding/json"
	"fmt"
	"strconv"
	"unicode/utf8"

	"github.com/orderapi/orderapi/internal/adapters/httpapi/problem"
)

// shapeProblem reads a refused body token by token and reports, in this
// order: invalid UTF-8 anywhere, an escaped lone surrogate such as
// "\ud800" anywhere, then a member name given twice in one object or
// nesting deeper than MaxDepth, whichever comes first. Syntax errors are
// left to encoding/json, which words them (and their offsets) as the API
// always has; the walk stops at the first one.
func shapeProblem(data []byte) error {
	if !utf8.Valid(data) {
		return problem.BadRequest(problem.CodeMalformedJSON, fmt.Sprintf("the body is not valid UTF-8 (at byte %d)", invalidUTF8At(data)))
	}
	if at := loneSurrogate(data); at >= 0 {
		return problem.BadRequest(problem.CodeMalformedJSON, fmt.Sprintf("the body escapes half a UTF-16 surrogate pair at byte %d, which is no character", at))
	}
	dec := jsonv1.NewDecoder(bytes.NewReader(data))
	dec.UseNumber() // numbers stay text: none is converted here
	// One set of member names per open object; nil for an open array.
	var open []map[string]bool
	var path []string  // the member name each open value sits under
	var pending string // the member whose value comes next
	inName := false    // the next string token in an object is a name
	for {
		tok, err := dec.Token()
		if err != nil {
			return nil
		}
		switch t := tok.(type) {
		case jsonv1.Delim:
			switch t {
			case '{', '[':
				if len(open) >= MaxDepth {
					return problem.BadRequest(problem.CodeMalformedJSON, fmt.Sprintf("the JSON nests deeper than %d levels", MaxDepth))
				}
				path = append(path, pending)
				pending = ""
				if t == '{' {
					open = append(open, map[string]bool{})
					inName = true
				} else {
					open = append(open, nil)
					inName = false
				}
			case '}', ']':
				open = open[:len(open)-1]
				path = path[:len(path)-1]
				if len(open) == 0 {
					return nil
				}
				inName = open[len(open)-1] != nil
			}
			continue
		case string:
			if inName {
				names := open[len(open)-1]
				if names[t] {
					return problem.BadRequest(problem.CodeDuplicateField, "field "+strconv.Quote(memberPath(path, t))+" is given more than once")
				}
				names[t] = true
				pending = t
				inName = false
				continue
			}
		}
		if len(open) == 0 {
			return nil // a scalar body, refused before
		}
		// A scalar value ends its member; the next token in an object is
		// a name again.
		inName = open[len(open)-1] != nil
	}
}

// invalidUTF8At returns the offset of the first byte that is not UTF-8.
func invalidUTF8At(data []byte) int {
	for i := 0; i < len(data); {
		r, size := utf8.DecodeRune(data[i:])
		if r == utf8.RuneError && size <= 1 {
			return i
		}
		i += size
	}
	return len(data)
}

// memberPath names a member by its dotted path, as field problems do.
func memberPath(path []string, name string) string {
	p := ""
	for _, s := range path {
		if s != "" {
			p += s + "."
		}
	}
	return p + name
}

// loneSurrogate returns the offset of the first \u escape of a UTF-16
// surrogate that is not half of a pair, or -1. A backslash appears in
// valid JSON only inside strings, so the bytes are read without tracking
// them; in invalid JSON a false find is still a 400.
func loneSurrogate(data []byte) int {
	for i := 0; i < len(data); i++ {
		if data[i] != '\\' || i+1 >= len(data) {
			continue
		}
		if data[i+1] != 'u' {
			i++ // \" or \\ and the like: skip the escaped byte
			continue
		}
		r, ok := hex4(data, i+2)
		switch {
		case !ok || r < 0xd800 || r > 0xdfff:
			i++
		case r <= 0xdbff && i+11 < len(data) && data[i+6] == '\\' && data[i+7] == 'u':
			if low, ok := hex4(data, i+8); ok && low >= 0xdc00 && low <= 0xdfff {
				i += 11
				continue
			}
			return i
		default:
			return i
		}
	}
	return -1
}

// hex4 reads four hex digits at data[at:].
func hex4(data []byte, at int) (rune, bool) {
	if at+4 > len(data) {
		return 0, false
	}
	var r rune
	for _, c := range data[at : at+4] {
		switch {
		case '0' <= c && c <= '9':
			r = r<<4 | rune(c-'0')
		case 'a' <= c && c <= 'f':
			r = r<<4 | rune(c-'a'+10)
		case 'A' <= c && c <= 'F':
			r = r<<4 | rune(c-'A'+10)
		default:
			return 0, false
		}
	}
	return r, true
}
