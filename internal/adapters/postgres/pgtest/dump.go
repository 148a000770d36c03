package pgtest

import (
	"bytes"
	"os/exec"
	"path/filepath"
	"testing"
)

// Dump is what pg_dump writes of the database at url in its plain format,
// schema and data: what a backup of the database holds. It runs the
// newest pg_dump installed, which reads servers of its version and older.
func Dump(t testing.TB, url string) []byte {
	t.Helper()
	cmd := exec.Command(clientProgram(t, "pg_dump"), "--dbname", url)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("pg_dump: %v\n%s", err, stderr.Bytes())
	}
	return out
}

// Restore runs a plain dump in the database at url with psql, as a
// restore of a backup does, and fails the test at its first error.
func Restore(t testing.TB, url string, dump []byte) {
	t.Helper()
	cmd := exec.Command(clientProgram(t, "psql"), "--no-psqlrc", "--quiet", "--set", "ON_ERROR_STOP=1", "--dbname", url)
	cmd.Stdin = bytes.NewReader(dump)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("psql: %v\n%s", err, out)
	}
}

// clientProgram is the path of a PostgreSQL client program.
func clientProgram(t testing.TB, program string) string {
	t.Helper()
	dir, err := newestBindir(program, "postgresql-client")
	if err != nil {
		t.Fatal(err)
	}
	return filepath.Join(dir, program)
}
