package main

import (
	"io"
	"maps"
	"net/http"
	"os"
	"path/filepath"
	"strings"
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

// serveWithMasterKeys starts a replica on the database of dbURL, in
// development mode, with the master key file master and the previous
// ones, and returns its base URL.
func serveWithMasterKeys(t *testing.T, dbURL, master string, previous ...string) (string, func() error) {
	t.Helper()
	vars := devAuth(t, map[string]string{"DATABASE_URL": dbURL, "ORDERAPI_ADDR": "127.0.0.1:0",
		"ORDERAPI_MASTER_KEY_FILE": master, "ORDERAPI_MASTER_KEY_PREVIOUS_FILES": strings.Join(previous, ",")})
	addr, stop := startServerEnv(t, vars, io.Discard)
	return "http://" + addr, stop
}

// postWithKey posts the JSON body to url as the operator, with the
// Idempotency-Key key unless it is empty, and returns the answer's status
// and headers.
func postWithKey(t *testing.T, url, body, key string) (int, http.Header) {
	t.Helper()
	req, err := http.NewRequest("POST", url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if key != "" {
		req.Header.Set("Idempotency-Key", key)
	}
	resp, err := authed.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode, resp.Header
}
