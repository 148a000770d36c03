package postgres

import (
	"testing"

	"github.com/jackc/pgx/v5"
)

func TestPositionalIsStrict(t *testing.T) {
	sql := `SELECT @a, @b`
	if _, _, err := Positional(sql, pgx.StrictNamedArgs{"a": 1}); err == nil {
		t.Error("a missing argument was accepted")
	}
	if _, _, err := Positional(sql, pgx.StrictNamedArgs{"a": 1, "c": 2}); err == nil {
		t.Error("an argument the statement does not use was accepted")
	}
	if _, _, err := Positional(sql, pgx.StrictNamedArgs{"a": 1, "b": 2, "c": 3}); err == nil {
		t.Error("an extra argument was accepted")
	}
}
