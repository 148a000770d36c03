package main

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
)

// npmProject is a folder of Node.js programs that tests run, with the npm
// packages its committed lockfile pins. Its packages are installed with
// `npm ci` when pkg, the one it needs, is missing or not at the locked
// version, so a fresh clone needs no step of its own.
type npmProject struct {
	dir, pkg string

	once sync.Once
	node string
	err  error
}

// Node returns the node program once the project's packages are
// installed. Without node the test skips, saying why (the project's
// needs), except under CI, where nothing may skip.
func (p *npmProject) Node(t *testing.T, needs string) string {
	t.Helper()
	p.once.Do(func() {
		node, err := exec.LookPath("node")
		if err != nil {
			p.err = err
			return
		}
		p.node = node
		if p.installed() {
			return
		}
		cmd := exec.Command("npm", "ci", "--no-audit", "--no-fund")
		cmd.Dir = p.dir
		if out, err := cmd.CombinedOutput(); err != nil {
			p.err = fmt.Errorf("npm ci in %s: %v\n%s", p.dir, err, out)
		}
	})
	switch {
	case p.node == "" && os.Getenv("CI") != "true":
		t.Skipf("node not installed; %s (apt-get install nodejs npm)", needs)
	case p.err != nil:
		t.Fatalf("%s: it needs Node.js and its npm packages: %v", needs, p.err)
	}
	return p.node
}

// installed reports whether node_modules holds pkg at the version the
// lockfile pins.
func (p *npmProject) installed() bool {
	var lock struct {
		Packages map[string]struct{ Version string } `json:"packages"`
	}
	var got struct{ Version string }
	if !readJSONFile(filepath.Join(p.dir, "package-lock.json"), &lock) ||
		!readJSONFile(filepath.Join(p.dir, "node_modules", p.pkg, "package.json"), &got) {
		return false
	}
	want := lock.Packages["node_modules/"+p.pkg].Version
	return want != "" && got.Version == want
}

func readJSONFile(path string, v any) bool {
	b, err := os.ReadFile(path)
	return err == nil && json.Unmarshal(b, v) == nil
}
