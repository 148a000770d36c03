package main

import (
	"testing"

	"github.com/orderapi/orderapi/internal/adapters/postgres/pgtest"
)

// dropSchema empties a test database so that a test sees what a first
// start on a new database sees.
func dropSchema(t *testing.T, url string) {
	t.Helper()
	pgtest.Exec(t, url, `DROP SCHEMA public CASCADE; CREATE SCHEMA public`)
}
