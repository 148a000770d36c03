package jsonbody

import "testing"

func TestCheckJSONMediaType(t *testing.T) {
	t.Parallel()
	for ct, ok := range map[string]bool{
		"application/json":                   true,
		"application/json; charset=utf-8":    true,
		"Application/JSON; Charset=UTF-8":    true,
		"application/json;charset=\"utf-8\"": true,
		"":                                   false,
		"text/plain":                         false,
		"application/problem+json":           false,
		"application/json; charset=latin1":   false,
		"application/json; v=2":              false,
		"application/json; charset":          false,
	} {
		if err := checkJSONMediaType(ct); (err == nil) != ok {
			t.Errorf("checkJSONMediaType(%q) = %v, want ok %v", ct, err, ok)
		}
	}
}
