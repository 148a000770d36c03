package httpapi

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"unicode/utf8"
)

// maxJSONDepth bounds how deeply a request body may nest arrays and
// objects. No request type goes deeper than 2; the bound only has to be
// far below anything that costs memory or stack.
const maxJSONDepth = 32

// checkJSONShape reads a body token by token, before it is decoded into a
// request type, and refuses what encoding/json would accept quietly:
// invalid UTF-8 and escaped lone surrogates such as "\ud800" (it would
// put U+FFFD in their place, altering the text), a member name given
// twice in one object (it would keep the last), and nesting deeper than
// maxJSONDepth. Syntax errors are left to the decoder, which names them
// better; the walk stops at the first one.
func checkJSONShape(data []byte) error {
	if !utf8.Valid(data) {
		at := len(data)
		for i := 0; i < len(data); {
			r, size := utf8.DecodeRune(data[i:])
			if r == utf8.RuneError && size <= 1 {
				at = i
				break
			}
			i += size
		}
		return badRequest(codeMalformedJSON, fmt.Sprintf("the body is not valid UTF-8 (at byte %d)", at))
	}
	if at := loneSurrogate(data); at >= 0 {
		return badRequest(codeMalformedJSON, fmt.Sprintf("the body escapes half a UTF-16 surrogate pair at byte %d, which is no character", at))
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber() // numbers stay text: nothing is converted twice
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
		case json.Delim:
			switch t {
			case '{', '[':
				if len(open) >= maxJSONDepth {
					return badRequest(codeMalformedJSON, fmt.Sprintf("the JSON nests deeper than %d levels", maxJSONDepth))
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
					return badRequest(codeDuplicateField, "field "+strconv.Quote(memberPath(path, t))+" is given more than once")
				}
				names[t] = true
				pending = t
				inName = false
				continue
			}
		}
		if len(open) == 0 {
			return nil // a scalar body; the decoder refuses it
		}
		// A scalar value ends its member; the next token in an object is
		// a name again.
		inName = open[len(open)-1] != nil
	}
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
			i += 1
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
