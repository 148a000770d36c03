package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/orderapi/orderapi/internal/adapters/postgres/pgtest"
)

// TestREADMEWalkthrough runs the curl commands of README.md against a
// fresh server and checks that each answers as printed: the same status
// and, for JSON, the same fields with the same values wherever the value
// does not depend on the run (ids, times and request ids do).
func TestREADMEWalkthrough(t *testing.T) {
	if _, err := exec.LookPath("curl"); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("curl is needed to check the README's walk-through")
		}
		t.Skip("curl not installed")
	}
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	steps := consoleSteps(string(readme))
	if len(steps) < 10 {
		t.Fatalf("found %d commands in README.md; the walk-through is gone?", len(steps))
	}

	// Given a fresh service
	addr, _ := startServer(t, pgtest.NewURL(t))

	// When the README's commands run in one shell, as a reader runs them:
	// from the repository's root, orderapi token signing with the key the
	// service verifies
	dev := filepath.Join(t.TempDir(), "orderapi-dev")
	if err := testDevKey().Save(dev); err != nil {
		t.Fatal(err)
	}
	const marker = "@@@ step "
	var script strings.Builder
	script.WriteString("set -e\n")
	for i, s := range steps {
		fmt.Fprintf(&script, "echo '%s%d'\n%s\necho\n", marker, i, strings.ReplaceAll(s.command, "localhost:8080", addr))
	}
	sh := exec.Command("bash", "-c", script.String())
	sh.Dir = filepath.Join("..", "..")
	sh.Env = append(os.Environ(), "ORDERAPI_AUTH_DEV_DIR="+dev)
	out, err := sh.CombinedOutput()
	if err != nil {
		t.Fatalf("the walk-through failed: %v\n%s", err, out)
	}
	got := make([]string, len(steps))
	for _, chunk := range strings.Split(string(out), marker)[1:] {
		var i int
		var rest string
		if n, _ := fmt.Sscanf(chunk, "%d", &i); n == 1 {
			_, rest, _ = strings.Cut(chunk, "\n")
			got[i] = rest
		}
	}

	// Then every answer matches what the README prints
	for i, s := range steps {
		if s.output == "" {
			continue
		}
		if want, have := statusLine(s.output), statusLine(got[i]); want != have {
			t.Errorf("%s\nstatus line %q, README prints %q", s.command, have, want)
		}
		want, have := jsonBody(t, s.output), jsonBody(t, got[i])
		if want == nil {
			continue
		}
		if diff := compareStable(want, have, ""); diff != "" {
			t.Errorf("%s\n%s\ngot: %s", s.command, diff, got[i])
		}
	}
}

type consoleStep struct{ command, output string }

// consoleSteps reads the ```console blocks: a line starting with "$ " is a
// command (continued while a line ends in a backslash), what follows up to
// the next command is its printed output.
func consoleSteps(md string) []consoleStep {
	var steps []consoleStep
	in, continued := false, false
	for _, line := range strings.Split(md, "\n") {
		switch {
		case strings.HasPrefix(line, "```console"):
			in = true
		case in && strings.HasPrefix(line, "```"):
			in = false
		case !in:
		case continued:
			steps[len(steps)-1].command += "\n" + line
			continued = strings.HasSuffix(line, "\\")
		case strings.HasPrefix(line, "$ "):
			steps = append(steps, consoleStep{command: strings.TrimPrefix(line, "$ ")})
			continued = strings.HasSuffix(line, "\\")
		case len(steps) > 0:
			steps[len(steps)-1].output += line + "\n"
		}
	}
	return steps
}

func statusLine(out string) string {
	if strings.HasPrefix(out, "HTTP/") {
		line, _, _ := strings.Cut(out, "\n")
		return strings.TrimSpace(line)
	}
	return ""
}

// jsonBody is the JSON document an output ends with, or nil.
func jsonBody(t *testing.T, out string) any {
	t.Helper()
	lines := strings.Split(strings.TrimSpace(out), "\n")
	last := strings.TrimSpace(lines[len(lines)-1])
	if !strings.HasPrefix(last, "{") {
		return nil
	}
	var v any
	dec := json.NewDecoder(bytes.NewReader([]byte(last)))
	dec.UseNumber()
	if err := dec.Decode(&v); err != nil {
		t.Fatalf("output is not JSON: %v\n%s", err, last)
	}
	return v
}

// Fields whose values differ from run to run.
var runDependent = []string{"id", "order_id", "event_id", "request_id", "correlation_id", "causation_id",
	"created_at", "updated_at", "placed_at", "shipped_at", "delivered_at", "occurred_at", "recorded_at",
	"position", "detail", "next_cursor", "date", "token"}

// compareStable reports the first difference between two JSON values,
// ignoring the values (not the presence) of run-dependent fields.
func compareStable(want, have any, path string) string {
	switch w := want.(type) {
	case map[string]any:
		h, ok := have.(map[string]any)
		if !ok {
			return fmt.Sprintf("%s: README prints an object, got %T", path, have)
		}
		wk, hk := keys(w), keys(h)
		if !slices.Equal(wk, hk) {
			return fmt.Sprintf("%s: fields %v, README prints %v", path, hk, wk)
		}
		for _, k := range wk {
			if slices.Contains(runDependent, k) {
				continue
			}
			if d := compareStable(w[k], h[k], path+"."+k); d != "" {
				return d
			}
		}
	case []any:
		h, ok := have.([]any)
		if !ok || len(h) != len(w) {
			return fmt.Sprintf("%s: %v, README prints %v", path, have, want)
		}
		for i := range w {
			if d := compareStable(w[i], h[i], fmt.Sprintf("%s[%d]", path, i)); d != "" {
				return d
			}
		}
	default:
		if !reflect.DeepEqual(want, have) {
			return fmt.Sprintf("%s: %v, README prints %v", path, have, want)
		}
	}
	return ""
}

func keys(m map[string]any) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	return ks
}
