package app_test

import (
	"encoding/json"
	"os/exec"
	"strings"
	"testing"
)

// TestLayering keeps dependencies pointing inward: the domain and the use
// cases know nothing of HTTP, SQL, logging, tracing or the adapters; nor does the
// live feed's hub, a mechanism over the use cases, save the logger it is
// given. The store in memory and the store contract are pure Go too: an
// adapter, the memory store may use no other. So is the CloudEvents
// encoding of the broker's messages, which shares the adapters' time text.
func TestLayering(t *testing.T) {
	// Exact standard packages: uuid and decimal import database/sql/driver
	// for their Scan methods, which is harmless; database/sql itself is not.
	forbiddenStd := map[string]bool{"net/http": true, "database/sql": true}
	forbidden := []string{
		"github.com/jackc/",
		"github.com/go-chi/",
		"github.com/nats-io/",
		"github.com/rs/zerolog",
		// Trace ids reach the app as plain values in Metadata.
		"go.opentelemetry.io/",
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
		{"../adapters/cloudevent", "github.com/orderapi/orderapi/internal/adapters"},
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

// TestPostgresLayering keeps SQL behind the PostgreSQL adapter: the event
// codec and the snapshot encoding run without a database driver; under
// internal/, only the adapter's packages import pgx (and metrics, which
// reads the pool's statistics); and the adapter knows nothing of HTTP.
func TestPostgresLayering(t *testing.T) {
	const (
		module   = "github.com/orderapi/orderapi/"
		postgres = module + "internal/adapters/postgres"
	)
	goList := func(args ...string) []struct{ ImportPath string } {
		t.Helper()
		out, err := exec.Command("go", append([]string{"list", "-json=ImportPath,Imports"}, args...)...).Output()
		if err != nil {
			t.Fatalf("go list %v: %v", args, err)
		}
		var pkgs []struct{ ImportPath string }
		dec := json.NewDecoder(strings.NewReader(string(out)))
		for dec.More() {
			var p struct{ ImportPath string }
			if err := dec.Decode(&p); err != nil {
				t.Fatal(err)
			}
			pkgs = append(pkgs, p)
		}
		return pkgs
	}
	for _, pkg := range []string{"../adapters/postgres/codec", "../adapters/postgres/snapshot"} {
		for _, p := range goList("-deps", pkg) {
			for _, f := range []string{"github.com/jackc/", "github.com/rs/zerolog", "database/sql", "net/http"} {
				if p.ImportPath == f || strings.HasPrefix(p.ImportPath, f) && strings.HasSuffix(f, "/") {
					t.Errorf("%s depends on %s", pkg, p.ImportPath)
				}
			}
		}
	}
	out, err := exec.Command("go", "list", "-f", `{{.ImportPath}} {{join .Imports " "}}`, "../...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		pkg, imports, _ := strings.Cut(line, " ")
		if pkg == postgres || strings.HasPrefix(pkg, postgres+"/") || pkg == module+"internal/adapters/metrics" {
			continue
		}
		for _, imp := range strings.Fields(imports) {
			if strings.HasPrefix(imp, "github.com/jackc/") {
				t.Errorf("%s imports %s: SQL lives under internal/adapters/postgres", pkg, imp)
			}
		}
	}
	for _, p := range goList("-deps", "../adapters/postgres/...") {
		if strings.HasPrefix(p.ImportPath, module+"internal/adapters/httpapi") {
			t.Errorf("a package under internal/adapters/postgres depends on %s", p.ImportPath)
		}
	}
}

// TestNATSLayering: under internal/, only the relay speaks to NATS, and
// the relay knows neither SQL nor HTTP: it reads the feed and takes its
// lock through the ports it declares.
func TestNATSLayering(t *testing.T) {
	const module = "github.com/orderapi/orderapi/"
	out, err := exec.Command("go", "list", "-f", `{{.ImportPath}} {{join .Imports " "}}`, "../...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	relay := module + "internal/adapters/natsrelay"
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		pkg, imports, _ := strings.Cut(line, " ")
		for _, imp := range strings.Fields(imports) {
			ours := pkg == relay || strings.HasPrefix(pkg, relay+"/")
			if strings.HasPrefix(imp, "github.com/nats-io/") && !ours {
				t.Errorf("%s imports %s: only the relay speaks to NATS", pkg, imp)
			}
			if ours && (imp == "net/http" || strings.HasPrefix(imp, "github.com/jackc/") || strings.HasPrefix(imp, module+"internal/adapters/httpapi")) {
				t.Errorf("%s imports %s", pkg, imp)
			}
		}
	}
}
