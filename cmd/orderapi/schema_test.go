package main

import (
	"context"
	"testing"

	"github.com/jackc/pgx/v5"
)

// dropSchema empties a test database so that a test sees what a first
// start on a new database sees.
func dropSchema(t *testing.T, url string) {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, `DROP SCHEMA public CASCADE; CREATE SCHEMA public`); err != nil {
		t.Fatal(err)
	}
}
