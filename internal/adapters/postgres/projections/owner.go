package projections

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
)

// A rebuild swaps in tables it creates, which belong to the role that
// runs it and carry only the privileges it grants. Run by another role
// than the live tables' owner, it would leave the service tables it cannot
// use (42501 on every request), so it is refused; run by the owner, it
// grants on each new table what the live one granted, so that a service
// role other than the owner keeps its access.

// ownersSQL lists the owner of each table ($1) and the current role.
const ownersSQL = `
SELECT t, pg_get_userbyid(c.relowner), current_user
  FROM unnest($1::text[]) AS t JOIN pg_class c ON c.oid = t::regclass`

// checkOwner refuses a rebuild of tables the current role does not own,
// naming their owner.
func checkOwner(ctx context.Context, conn *pgx.Conn, tables []string) error {
	rows, err := conn.Query(ctx, ownersSQL, tables)
	if err != nil {
		return fmt.Errorf("owners of %v: %w", tables, err)
	}
	type owned struct{ Table, Owner, Current string }
	found, err := pgx.CollectRows(rows, pgx.RowToStructByPos[owned])
	if err != nil {
		return fmt.Errorf("owners of %v: %w", tables, err)
	}
	for _, o := range found {
		if o.Owner != o.Current {
			return fmt.Errorf("%s is owned by role %q, and this rebuild runs as %q: run it as %q (the role that migrates), "+
				"or the tables it swaps in would be %q's, and the service could not use them", o.Table, o.Owner, o.Current, o.Owner, o.Current)
		}
	}
	return nil
}

// grantsSQL lists what a table ($1) grants to roles other than its owner,
// as GRANT statements' privilege, grantee and grant option.
const grantsSQL = `
SELECT a.privilege_type,
       CASE WHEN a.grantee = 0 THEN 'PUBLIC' ELSE quote_ident(pg_get_userbyid(a.grantee)) END,
       a.is_grantable
  FROM pg_class c, aclexplode(c.relacl) AS a
 WHERE c.oid = $1::regclass AND a.grantee <> c.relowner`

// copyGrants grants on table to what from grants (CREATE TABLE ... LIKE
// copies no privileges).
func copyGrants(ctx context.Context, conn *pgx.Conn, from, to string) error {
	rows, err := conn.Query(ctx, grantsSQL, from)
	if err != nil {
		return fmt.Errorf("grants of %s: %w", from, err)
	}
	type grant struct {
		Privilege, Grantee string
		Grantable          bool
	}
	grants, err := pgx.CollectRows(rows, pgx.RowToStructByPos[grant])
	if err != nil {
		return fmt.Errorf("grants of %s: %w", from, err)
	}
	for _, g := range grants {
		// Both names come from the catalog: the privilege is a keyword,
		// the grantee quoted by quote_ident.
		sql := "GRANT " + g.Privilege + " ON " + pgx.Identifier{to}.Sanitize() + " TO " + g.Grantee
		if g.Grantable {
			sql += " WITH GRANT OPTION"
		}
		if _, err := conn.Exec(ctx, sql); err != nil {
			return fmt.Errorf("grant on %s what %s grants: %w", to, from, err)
		}
	}
	return nil
}
