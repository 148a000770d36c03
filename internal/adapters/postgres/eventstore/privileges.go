package eventstore

import (
	"context"
	"fmt"
	"strings"

	"github.com/orderapi/orderapi/internal/adapters/postgres"
)

// tablePrivileges are the privileges the service's own statements need on
// each table: a role that lacks one fails the requests that use it (42501).
// The projections commands and migrations need more (ownership).
var tablePrivileges = []struct {
	table string
	privs []string
}{
	{"events", []string{"SELECT", "INSERT", "UPDATE"}},
	{"order_details", []string{"SELECT", "INSERT", "UPDATE"}},
	{"customer_orders", []string{"SELECT", "INSERT", "UPDATE"}},
	{"idempotency_keys", []string{"SELECT", "INSERT", "UPDATE", "DELETE"}},
	{"stream_snapshots", []string{"SELECT", "INSERT", "DELETE"}},
	{"service_secrets", []string{"SELECT", "INSERT", "UPDATE"}},
	{"customer_data_keys", []string{"SELECT", "INSERT", "UPDATE"}},
	{"analytics_orders", []string{"SELECT", "INSERT", "UPDATE"}},
	{"analytics_daily", []string{"SELECT", "INSERT", "UPDATE"}},
	{"projection_checkpoints", []string{"SELECT", "UPDATE"}},
	{"broker_checkpoints", []string{"SELECT", "INSERT", "UPDATE"}},
	{"goose_db_version", []string{"SELECT"}},
}

// missingPrivilegesSQL lists the pairs ($1 tables, $2 privileges, one
// each: has_table_privilege is true when any one of several is held) that
// the current role lacks, or whose table is missing.
const missingPrivilegesSQL = `
SELECT p.tbl, p.priv
  FROM unnest($1::text[], $2::text[]) WITH ORDINALITY AS p(tbl, priv, n)
 WHERE to_regclass(p.tbl) IS NULL OR NOT has_table_privilege(p.tbl, p.priv)
 ORDER BY p.n`

// CheckPrivileges returns nil when the current role holds every privilege
// the service needs on its tables, and otherwise an error naming each
// table and what it lacks there: a table swapped in by a rebuild run as
// another role, or a grant forgotten, fails every request that uses it.
func CheckPrivileges(ctx context.Context, q postgres.Querier) error {
	var tables, privs []string
	for _, tp := range tablePrivileges {
		for _, p := range tp.privs {
			tables, privs = append(tables, tp.table), append(privs, p)
		}
	}
	rows, err := q.Query(ctx, missingPrivilegesSQL, tables, privs)
	if err != nil {
		return fmt.Errorf("check privileges: %w", err)
	}
	defer rows.Close()
	var missing []string
	byTable := map[string]int{}
	for rows.Next() {
		var table, priv string
		if err := rows.Scan(&table, &priv); err != nil {
			return fmt.Errorf("check privileges: %w", err)
		}
		if i, ok := byTable[table]; ok {
			missing[i] += ", " + priv
			continue
		}
		byTable[table] = len(missing)
		missing = append(missing, table+": "+priv)
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("check privileges: %w", err)
	}
	if len(missing) > 0 {
		return &PrivilegesError{Missing: missing}
	}
	return nil
}

// PrivilegesError names the tables on which the current role lacks a
// privilege the service needs, and which ones.
type PrivilegesError struct {
	// Missing holds "<table>: <privilege>, ..." for each table.
	Missing []string
}

func (e *PrivilegesError) Error() string {
	return "the database role lacks privileges the service needs (" + strings.Join(e.Missing, "; ") + ")"
}
