package httpapi

import (
	"context"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/orderapi/orderapi/internal/adapters/httpapi/access"
	"github.com/orderapi/orderapi/internal/app"
)

// TestMetadataFrom: a command records its request's ids and, as who did
// it, the principal its token names; X-Actor, whatever it holds, is not
// read.
func TestMetadataFrom(t *testing.T) {
	t.Parallel()
	who := staffPrincipal
	tests := []struct {
		name    string
		headers map[string][]string
		want    app.Metadata
		wantErr bool
	}{
		{"defaults", nil, app.Metadata{RequestID: "req-1", CorrelationID: "req-1", CausationID: "req-1", Principal: who}, false},
		{"all set", map[string][]string{"X-Correlation-Id": {"flow.9"}, "X-Actor": {"alice@example.com"}},
			app.Metadata{RequestID: "req-1", CorrelationID: "flow.9", CausationID: "req-1", Principal: who}, false},
		{"service actor", map[string][]string{"X-Actor": {"svc:billing"}},
			app.Metadata{RequestID: "req-1", CorrelationID: "req-1", CausationID: "req-1", Principal: who}, false},
		{"empty actor", map[string][]string{"X-Actor": {""}}, app.Metadata{RequestID: "req-1", CorrelationID: "req-1", CausationID: "req-1", Principal: who}, false},
		{"actor with space", map[string][]string{"X-Actor": {"Alice Smith"}}, app.Metadata{RequestID: "req-1", CorrelationID: "req-1", CausationID: "req-1", Principal: who}, false},
		{"actor too long", map[string][]string{"X-Actor": {strings.Repeat("a", 101)}}, app.Metadata{RequestID: "req-1", CorrelationID: "req-1", CausationID: "req-1", Principal: who}, false},
		{"two actors", map[string][]string{"X-Actor": {"a", "b"}}, app.Metadata{RequestID: "req-1", CorrelationID: "req-1", CausationID: "req-1", Principal: who}, false},
		{"correlation too long", map[string][]string{"X-Correlation-Id": {strings.Repeat("a", 65)}}, app.Metadata{}, true},
		{"correlation with colon", map[string][]string{"X-Correlation-Id": {"a:b"}}, app.Metadata{}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest("POST", "/", nil)
			ctx := context.WithValue(r.Context(), requestIDKey, "req-1")
			r = r.WithContext(access.WithPrincipal(ctx, staffPrincipal))
			for k, vs := range tt.headers {
				for _, v := range vs {
					r.Header.Add(k, v)
				}
			}
			got, err := metadataFrom(r)
			if (err != nil) != tt.wantErr || got != tt.want {
				t.Errorf("metadataFrom = %+v, %v; want %+v, error %v", got, err, tt.want, tt.wantErr)
			}
		})
	}
}

func TestIsToken(t *testing.T) {
	t.Parallel()
	for s, want := range map[string]bool{
		"a": true, "A-z_0.9": true, strings.Repeat("x", 64): true,
		"": false, strings.Repeat("x", 65): false, "a b": false, "a/b": false, "é": false, "a:b": false,
	} {
		if got := isToken(s, 64); got != want {
			t.Errorf("isToken(%q) = %v", s, got)
		}
	}
}
