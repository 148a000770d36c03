package main

import (
	"maps"
	"os"
	"path/filepath"
	"testing"
)

// testMasterKey is the master key of every command these tests run, as
// 64 hexadecimal digits: one key, so that what a service sealed, another
// command of the same test opens.
const testMasterKey = "6f726465726170692074657374206d6173746572206b65792c20333220622121"

// withMasterKey returns vars and ORDERAPI_MASTER_KEY_FILE naming a file
// of testMasterKey in a folder of t's, unless vars sets it already.
func withMasterKey(t testing.TB, vars map[string]string) map[string]string {
	t.Helper()
	out := maps.Clone(vars)
	if out == nil {
		out = map[string]string{}
	}
	if _, ok := out["ORDERAPI_MASTER_KEY_FILE"]; !ok {
		out["ORDERAPI_MASTER_KEY_FILE"] = masterKeyFile(t, testMasterKey)
	}
	return out
}

// masterKeyFile writes a master key file of hex in a folder of t's, as
// an operator keeps it: readable by its owner alone.
func masterKeyFile(t testing.TB, hex string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "master-key.hex")
	if err := os.WriteFile(path, []byte(hex+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}
