package main

import (
	"crypto/rand"
	"encoding/hex"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/orderapi/orderapi/internal/adapters/postgres/pgtest"
)

// newRole creates a login role of a unique name (roles belong to the whole
// server) with the given attributes, and returns its name and dbURL as
// that role. When the test ends, what it owns in dbURL's database goes to
// postgres, and the role is dropped.
func newRole(t *testing.T, dbURL string) (role, roleURL string) {
	t.Helper()
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	role = "orderapi_test_" + hex.EncodeToString(b)
	ident := pgx.Identifier{role}.Sanitize()
	pgtest.Exec(t, dbURL, "CREATE ROLE "+ident+" LOGIN")
	t.Cleanup(func() {
		pgtest.Exec(t, dbURL, "REASSIGN OWNED BY "+ident+" TO postgres; DROP OWNED BY "+ident)
		pgtest.Exec(t, dbURL, "DROP ROLE "+ident)
	})
	u, err := url.Parse(dbURL)
	if err != nil {
		t.Fatal(err)
	}
	u.User = url.User(role)
	return role, u.String()
}

// giveTables makes role the owner of every table of the database.
func giveTables(t *testing.T, dbURL, role string) {
	t.Helper()
	pgtest.Exec(t, dbURL, `DO $$ DECLARE r record; BEGIN
  FOR r IN SELECT tablename FROM pg_tables WHERE schemaname = 'public' LOOP
    EXECUTE format('ALTER TABLE %I OWNER TO %I', r.tablename, '`+role+`');
  END LOOP;
END $$`)
	pgtest.Exec(t, dbURL, "GRANT CREATE ON SCHEMA public TO "+pgx.Identifier{role}.Sanitize())
}

// TestRebuildAsAnotherRoleIsRefused: a rebuild run by a role that does not
// own the tables is refused, naming the owner; one run by the owner keeps
// what the tables grant to the role the service runs as.
func TestRebuildAsAnotherRoleIsRefused(t *testing.T) {
	t.Parallel()
	// Given tables owned by one role, and the service running as another
	// one, granted what it needs
	url := pgtest.NewURL(t)
	owner, ownerURL := newRole(t, url)
	service, serviceURL := newRole(t, url)
	giveTables(t, url, owner)
	pgtest.Exec(t, ownerURL, "GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO "+pgx.Identifier{service}.Sanitize())
	addr, _ := startServer(t, serviceURL)
	base := "http://" + addr
	newOrder(t, authed, base)
	eventually(t, 0, http.StatusOK, "GET", base+"/readyz", "")

	// When a rebuild runs as a role that does not own the tables (here
	// a superuser, who could drop them)
	_, err := projectionsCmd(t, url, "rebuild", "all")

	// Then it is refused, naming the owner, and changes nothing
	if err == nil || !strings.Contains(err.Error(), `owned by role "`+owner+`"`) {
		t.Fatalf("rebuild as postgres = %v, want a refusal naming %s", err, owner)
	}
	newOrder(t, authed, base)

	// And as the owner it succeeds, and the service keeps serving
	if out, err := projectionsCmd(t, ownerURL, "rebuild", "all"); err != nil {
		t.Fatalf("rebuild as the owner: %v\n%s", err, out)
	}
	newOrder(t, authed, base)
	eventually(t, 0, http.StatusOK, "GET", base+"/readyz", "")
}

// TestReadinessNoticesMissingPrivileges: when a table the service uses is
// one its role cannot use (as a rebuild by another role used to leave
// it), the service says it is not ready, naming the table.
func TestReadinessNoticesMissingPrivileges(t *testing.T) {
	t.Parallel()
	// Given the service running as the role that owns its tables
	url := pgtest.NewURL(t)
	owner, ownerURL := newRole(t, url)
	giveTables(t, url, owner)
	addr, _ := startServer(t, ownerURL)
	base := "http://" + addr
	eventually(t, 0, http.StatusOK, "GET", base+"/readyz", "")

	// When one of them passes to another role
	pgtest.Exec(t, url, "ALTER TABLE customer_orders OWNER TO postgres")

	// Then the service is not ready, and says which table and what it lacks
	a := call(t, "GET", base+"/readyz", "")
	if a.status != http.StatusServiceUnavailable || !strings.Contains(a.detail, "customer_orders: SELECT, INSERT, UPDATE") {
		t.Fatalf("readyz = %d %q, want 503 naming customer_orders", a.status, a.detail)
	}

	// And once it is given back, ready again
	pgtest.Exec(t, url, "ALTER TABLE customer_orders OWNER TO "+pgx.Identifier{owner}.Sanitize())
	eventually(t, 0, http.StatusOK, "GET", base+"/readyz", "")
}
