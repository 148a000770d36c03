package main

import (
	"os"
	"regexp"
	"testing"
)

// TestOneToolchain keeps every file that picks the Go toolchain on the
// version go.mod asks for: a build, a CI run or an image on another would
// test what is not shipped, or ship the standard-library vulnerabilities
// that version fixes.
func TestOneToolchain(t *testing.T) {
	read := func(name string) string {
		b, err := os.ReadFile("../../" + name)
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}

	// Given the version go.mod asks for
	gomod := read("go.mod")
	m := regexp.MustCompile(`(?m)^go (\S+)$`).FindStringSubmatch(gomod)
	if m == nil {
		t.Fatal("go.mod has no go line")
	}
	want := m[1]
	if tc := regexp.MustCompile(`(?m)^toolchain go(\S+)$`).FindStringSubmatch(gomod); tc != nil && tc[1] != want {
		t.Errorf("go.mod: toolchain go%s, but go %s", tc[1], want)
	}

	// When the files that pick a toolchain are read
	picks := regexp.MustCompile(`GOTOOLCHAIN ?:?= ?go([0-9][0-9.]*[0-9])|FROM golang:([0-9][0-9.]*[0-9])`)
	for _, file := range []string{"Makefile", ".ci/run", "Dockerfile", "README.md"} {
		found := picks.FindAllStringSubmatch(read(file), -1)

		// Then each picks one, and the same
		if len(found) == 0 {
			t.Errorf("%s picks no Go toolchain; want go%s", file, want)
		}
		for _, f := range found {
			if v := f[1] + f[2]; v != want {
				t.Errorf("%s: %q picks %s; go.mod asks for %s", file, f[0], v, want)
			}
		}
	}
}
