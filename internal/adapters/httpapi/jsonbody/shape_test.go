package jsonbody

import (
	"strings"
	"testing"
	"time"

	"github.com/orderapi/orderapi/internal/adapters/httpapi/problem"
)

// TestShapeProblem reads bodies as no request type in particular (any),
// so that only their shape and syntax can be wrong.
func TestShapeProblem(t *testing.T) {
	t.Parallel()
	tests := []struct{ body, code, detail string }{
		{`{"quantity":1}`, "", ""},
		{`{"a":{"x":1},"b":{"x":1}}`, "", ""},
		{`{"a":[{"x":1},{"x":1}]}`, "", ""},
		{`{"s":"\ud83d\ude00 \u00e9 \\ud800"}`, "", ""},
		{`{"quantity":1,"quantity":2}`, problem.CodeDuplicateField, `"quantity"`},
		{`{"shipping_address":{"name":"a","line1":"b","name":"c"}}`, problem.CodeDuplicateField, `"shipping_address.name"`},
		{`{"a":[{"x":1,"x":2}]}`, problem.CodeDuplicateField, `"a.x"`},
		{"{\"s\":\"\xff\"}", problem.CodeMalformedJSON, "not valid UTF-8 (at byte 6)"},
		{"{\"s\":\"\xed\xa0\x80\"}", problem.CodeMalformedJSON, "not valid UTF-8"}, // a surrogate, UTF-8-encoded
		{`{"s":"\ud800"}`, problem.CodeMalformedJSON, "surrogate"},
		{`{"s":"\udc00\ud800"}`, problem.CodeMalformedJSON, "surrogate"},
		{`{"s":"\uD83D\u0041"}`, problem.CodeMalformedJSON, "surrogate"},
		{`{"s":"x\ud83d"}`, problem.CodeMalformedJSON, "surrogate"},
		{`{"a":` + strings.Repeat("[", MaxDepth) + strings.Repeat("]", MaxDepth) + `}`, problem.CodeMalformedJSON, "deeper than 32"},
		{`{"a":` + strings.Repeat("[", MaxDepth-1) + strings.Repeat("]", MaxDepth-1) + `}`, "", ""},
		{`{"a":` + strings.Repeat(`{"b":`, 100_000), problem.CodeMalformedJSON, "deeper than 32"},
		{`{"a":1,}`, problem.CodeMalformedJSON, "malformed JSON at byte"},
	}
	for _, tt := range tests {
		start := time.Now()
		err := explain[any]([]byte(tt.body))
		p, _ := problem.From(err)
		if tt.code == "" {
			if err != nil {
				t.Errorf("%.60s: %v", tt.body, err)
			}
		} else if p.Status != 400 || p.Code != tt.code || !strings.Contains(p.Detail, tt.detail) {
			t.Errorf("%.60s: %d %s %q; want 400 %s containing %q", tt.body, p.Status, p.Code, p.Detail, tt.code, tt.detail)
		}
		if d := time.Since(start); d > time.Second {
			t.Errorf("%.60s took %s", tt.body, d)
		}
	}
}
