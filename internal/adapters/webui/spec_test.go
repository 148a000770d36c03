package webui

import (
	"encoding/json"
	"maps"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/orderapi/orderapi/api"
)

// TestSpecNamesEveryFile: api/openapi.yaml lists exactly the files each
// page serves, and states each page's policy as it is.
func TestSpecNamesEveryFile(t *testing.T) {
	t.Parallel()
	doc, err := openapi3.NewLoader().LoadFromData(api.OpenAPI)
	if err != nil {
		t.Fatal(err)
	}
	for _, pg := range []struct {
		path, cspHeader string
		page            *page
	}{
		{"/docs", "PageCSP", docs()},
		{"/console", "ConsoleCSP", console()},
	} {
		item := doc.Paths.Find(pg.path + "/{asset}")
		if item == nil || len(item.Parameters) != 1 || item.Parameters[0].Value.Name != "asset" {
			t.Fatalf("%s/{asset} is not documented with its parameter", pg.path)
		}
		var documented []string
		for _, v := range item.Parameters[0].Value.Schema.Value.Enum {
			documented = append(documented, v.(string))
		}
		slices.Sort(documented)
		if served := slices.Sorted(maps.Keys(pg.page.assets)); !slices.Equal(documented, served) {
			t.Errorf("the spec names %v under %s, the page serves %v", documented, pg.path, served)
		}
		if csp := doc.Components.Headers[pg.cspHeader].Value.Schema.Value.Enum; len(csp) != 1 || csp[0] != pg.page.csp {
			t.Errorf("the spec's %s is %v, the page's %q", pg.cspHeader, csp, pg.page.csp)
		}
		if ref := doc.Paths.Find(pg.path).Get.Responses.Status(200).Value.Headers["Content-Security-Policy"].Ref; ref != "#/components/headers/"+pg.cspHeader {
			t.Errorf("GET %s documents the policy %s", pg.path, ref)
		}
	}
}

// TestVendoredSwaggerUIIsThePinnedOne: the committed bundle is the
// version vendor/package.json pins and its lockfile locks, and the README
// names that version.
func TestVendoredSwaggerUIIsThePinnedOne(t *testing.T) {
	t.Parallel()
	var pkg struct {
		Dependencies map[string]string `json:"dependencies"`
	}
	var lock struct {
		Packages map[string]struct {
			Version string `json:"version"`
		} `json:"packages"`
	}
	readJSON(t, "vendor/package.json", &pkg)
	readJSON(t, "vendor/package-lock.json", &lock)
	pinned := pkg.Dependencies["swagger-ui-dist"]
	if !regexp.MustCompile(`^\d+\.\d+\.\d+$`).MatchString(pinned) {
		t.Fatalf("vendor/package.json pins swagger-ui-dist %q, want an exact version", pinned)
	}
	if locked := lock.Packages["node_modules/swagger-ui-dist"].Version; locked != pinned {
		t.Errorf("the lockfile has swagger-ui-dist %q, package.json %q", locked, pinned)
	}
	if !strings.Contains(string(swaggerUIBundle), `PACKAGE_VERSION:"`+pinned+`"`) {
		t.Errorf("docs/swagger-ui/swagger-ui-bundle.js is not swagger-ui-dist %s: run make swagger-ui", pinned)
	}
	readme, err := os.ReadFile("../../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(readme), "Swagger UI "+pinned) {
		t.Errorf("README.md does not name Swagger UI %s", pinned)
	}
}

func readJSON(t *testing.T, path string, v any) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}
