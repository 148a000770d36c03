package eventstore

import (
	"context"
	"reflect"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/orderapi/orderapi/internal/adapters/postgres"
)

// TestPositionalMatchesPgx checks the rewrite against pgx's own, for every
// statement that goes through it: the same text, the same arguments in
// the same order.
func TestPositionalMatchesPgx(t *testing.T) {
	statements := map[string]string{
		"append":         appendSQL,
		"snapshot clear": clearSnapshotsSQL,
		"snapshot save":  saveSnapshotsSQL,
		"literal":        `SELECT '@not_a_name', "@neither", @a::int -- @nor_this` + "\n" + `, @b, @a`,
	}
	for name, sql := range statements {
		t.Run(name, func(t *testing.T) {
			// Given an argument for each name pgx finds in the text
			args := pgx.StrictNamedArgs{}
			for i, n := range postgres.CompileNamed(sql).Names {
				args[n] = i * 10
			}
			// When both rewrite it
			wantSQL, wantArgs, err := args.RewriteQuery(context.Background(), nil, sql, nil)
			if err != nil {
				t.Fatal(err)
			}
			gotSQL, gotArgs, err := postgres.Positional(sql, args)
			if err != nil {
				t.Fatal(err)
			}
			// Then they agree
			if gotSQL != wantSQL {
				t.Errorf("text differs:\n got %s\nwant %s", gotSQL, wantSQL)
			}
			if !reflect.DeepEqual(gotArgs, wantArgs) {
				t.Errorf("arguments differ: got %v, want %v", gotArgs, wantArgs)
			}
		})
	}
}
