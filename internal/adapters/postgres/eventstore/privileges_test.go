package eventstore_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/orderapi/orderapi/internal/adapters/postgres/eventstore"
	"github.com/orderapi/orderapi/internal/adapters/postgres/pgtest"
)

// TestCheckPrivilegesNamesTheTablesTheServiceUses: a role granted every
// table but one that the service writes is refused, naming that table;
// the check covers the snapshots and secrets tables the service uses.
func TestCheckPrivilegesNamesTheTablesTheServiceUses(t *testing.T) {
	t.Parallel()
	for _, table := range []string{"stream_snapshots", "service_secrets"} {
		t.Run(table, func(t *testing.T) {
			t.Parallel()
			// Given a role granted everything on every table but table
			dbURL := pgtest.NewURL(t)
			roleURL := grantedRole(t, dbURL)
			pgtest.Exec(t, dbURL, "REVOKE ALL ON "+table+" FROM "+pgx.Identifier{roleName(t, roleURL)}.Sanitize())
			conn, err := pgx.Connect(t.Context(), roleURL)
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close(context.Background())

			// When its privileges are checked
			err = eventstore.CheckPrivileges(t.Context(), conn)

			// Then the table is named
			var pe *eventstore.PrivilegesError
			if !errors.As(err, &pe) || !slices.ContainsFunc(pe.Missing, func(m string) bool { return strings.HasPrefix(m, table+":") }) {
				t.Fatalf("CheckPrivileges = %v, want %s named", err, table)
			}
		})
	}
}

// TestCheckPrivilegesPassesAFullyGrantedRole: the check asks for nothing
// more than the tables' grants give.
func TestCheckPrivilegesPassesAFullyGrantedRole(t *testing.T) {
	t.Parallel()
	dbURL := pgtest.NewURL(t)
	conn, err := pgx.Connect(t.Context(), grantedRole(t, dbURL))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	if err := eventstore.CheckPrivileges(t.Context(), conn); err != nil {
		t.Fatalf("CheckPrivileges of a role granted every table: %v", err)
	}
}

// grantedRole creates a login role granted everything on every table of
// dbURL's database, dropped when the test ends, and returns its URL.
func grantedRole(t *testing.T, dbURL string) string {
	t.Helper()
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	role := "orderapi_test_" + hex.EncodeToString(b)
	ident := pgx.Identifier{role}.Sanitize()
	pgtest.Exec(t, dbURL, "CREATE ROLE "+ident+" LOGIN")
	t.Cleanup(func() {
		pgtest.Exec(t, dbURL, "DROP OWNED BY "+ident)
		pgtest.Exec(t, dbURL, "DROP ROLE "+ident)
	})
	pgtest.Exec(t, dbURL, "GRANT ALL ON ALL TABLES IN SCHEMA public TO "+ident)
	u, err := url.Parse(dbURL)
	if err != nil {
		t.Fatal(err)
	}
	u.User = url.User(role)
	return u.String()
}

func roleName(t *testing.T, roleURL string) string {
	t.Helper()
	u, err := url.Parse(roleURL)
	if err != nil {
		t.Fatal(err)
	}
	return u.User.Username()
}
