package postgres

import "testing"

func TestSummarizeNamesTheOperationAndItsTable(t *testing.T) {
	t.Parallel()
	for _, c := range []struct{ sql, want string }{
		// The append: an insert, whatever its CTEs and its final SELECT.
		{`WITH appended AS (
    INSERT INTO events (event_id, stream_id) SELECT e.event_id, $1::uuid FROM unnest($2::uuid[]) WITH ORDINALITY AS e(event_id, n)
    RETURNING position
), details AS (
    INSERT INTO order_details AS d (order_id) VALUES ($1::uuid)
    ON CONFLICT (order_id) DO UPDATE SET version = EXCLUDED.version WHERE d.version < EXCLUDED.version
)
SELECT max(position) FROM appended`, "INSERT events"},
		{`INSERT INTO idempotency_keys(principal, key) VALUES ($1, $2)`, "INSERT idempotency_keys"},
		{`UPDATE ONLY projection_checkpoints SET position = $1 WHERE name = $2`, "UPDATE projection_checkpoints"},
		{`DELETE FROM idempotency_keys WHERE expires_at < now()`, "DELETE idempotency_keys"},
		{`MERGE INTO analytics_daily d USING x ON d.day = x.day WHEN MATCHED THEN UPDATE SET n = 1`, "MERGE analytics_daily"},
		// Reads: the outermost FROM, past the names of the WITH's subqueries.
		{"\nSELECT order_id, customer_id\n  FROM order_details\n WHERE order_id = $1", "SELECT order_details"},
		{`WITH snapshot AS MATERIALIZED (SELECT pg_current_snapshot() AS s),
other AS MATERIALIZED (SELECT backend_xid AS xid FROM pg_stat_activity)
SELECT transaction_id FROM events WHERE transaction_id < (SELECT w FROM other) LIMIT $3`, "SELECT events"},
		{`WITH snap AS (SELECT version FROM stream_snapshots WHERE stream_id = $1 LIMIT 1)
SELECT true, version FROM snap UNION ALL SELECT false, stream_version FROM events WHERE stream_id = $1`, "SELECT events"},
		{`SELECT EXISTS (SELECT 1 FROM events WHERE stream_id = $1)`, "SELECT events"},
		{`SELECT * FROM unnest($1::int[])`, "SELECT"},
		{`SELECT pg_try_advisory_lock($1)`, "SELECT"},
		{`select 1 from "Order Details" where "select" = $1`, "SELECT Order Details"},
		// What literals, quoted names and comments hold is never read.
		{`-- name: insert into secrets
/* INSERT INTO hidden /* nested */ */ SELECT 'INSERT INTO x', E'\' DELETE FROM y', $$UPDATE z$$, $q$DELETE FROM w$q$ FROM orders`, "SELECT orders"},
		{`SELECT 'a\', 'INSERT INTO secret' FROM t`, "SELECT t"},
		{`LISTEN orderapi_events`, "LISTEN"},
		{`SET LOCAL lock_timeout = 100`, "SET"},
		{``, "UNKNOWN"},
		{`  -- only a comment`, "UNKNOWN"},
	} {
		// Given a statement, when it is summarized
		got := summarize(c.sql).String()
		// Then it is its operation and table, as span names have them
		if got != c.want {
			t.Errorf("summarize(%.60q) = %q, want %q", c.sql, got, c.want)
		}
	}
}

func TestSummariesAreKeptWithinTheirBound(t *testing.T) {
	t.Parallel()
	// Given more distinct statements than are kept
	var s summaries
	for i := range maxSummaries + 10 {
		sql := "SELECT 1 FROM t" + string(rune('a'+i%26)) + " WHERE n = " + string(rune('0'+i%10)) + string(rune(i))
		// When each is summarized
		if got := s.of(sql).String(); got != "SELECT t"+string(rune('a'+i%26)) {
			t.Fatalf("summary %q", got)
		}
	}
	// Then no more than the bound are kept
	n := 0
	s.m.Range(func(any, any) bool { n++; return true })
	if n > maxSummaries {
		t.Errorf("%d summaries kept, at most %d", n, maxSummaries)
	}
}
