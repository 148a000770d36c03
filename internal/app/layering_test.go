package app_test

import (
	"encoding/json"
	"os/exec"
	"strings"
	"testing"
)

// TestLayering keeps dependencies pointing inward: the domain and the use
// cases know nothing of HTTP, SQL, logging or the adapters; nor does the
// live feed's hub, a mechanism over the use cases, save the logger it is
// given. The store in memory and the store contract are pure Go too: an
// adapter, the memory store may use no other.
func TestLayering(t *testing.T) {
	// Exact standard packages: uuid and decimal import database/sql/driver
	// for their Scan methods, which is harmless; database/sql itself is not.
	forbiddenStd := map[string]bool{"net/http": true, "database/sql": true}
	forbidden := []string{
		"github.com/jackc/",
		"github.com/go-chi/",
		"github.com/rs/zerolog",
		"github.com/orderapi/orderapi/internal/adapters",
		"github.com/orderapi/orderapi/cmd",
	}
	for _, c := range []struct {
		pkg     string
		allowed string // a forbidden prefix this package may use
	}{
		{"../domain/...", ""},
		{".", ""},
		{"../feedhub", "github.com/rs/zerolog"},
		{"./storetest", ""},
		{"../adapters/memory", "github.com/orderapi/orderapi/internal/adapters"},
	} {
		pkg := c.pkg
		out, err := exec.Command("go", "list", "-deps", "-json=ImportPath,Standard", pkg).Output()
		if err != nil {
			t.Fatalf("go list %s: %v", pkg, err)
		}
		dec := json.NewDecoder(strings.NewReader(string(out)))
		for dec.More() {
			var p struct{ ImportPath string }
			if err := dec.Decode(&p); err != nil {
				t.Fatal(err)
			}
			if forbiddenStd[p.ImportPath] {
				t.Errorf("%s depends on %s", pkg, p.ImportPath)
			}
			for _, f := range forbidden {
				if f != c.allowed && strings.HasPrefix(p.ImportPath, f) {
					t.Errorf("%s depends on %s", pkg, p.ImportPath)
				}
			}
		}
	}
}
