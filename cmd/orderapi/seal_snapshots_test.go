package main

import (
	"context"
	"strings"
	"testing"

	"github.com/google/uuid"
	"github.com/orderapi/orderapi/internal/adapters/postgres/codec"
	"github.com/orderapi/orderapi/internal/adapters/postgres/pgtest"
	"github.com/orderapi/orderapi/internal/adapters/postgres/snapshot"
)

func TestPersonalDataSealDeletesTheSnapshotsOfEarlierBuilds(t *testing.T) {
	t.Parallel()
	// Given snapshots an earlier build wrote before sealing began, an
	// address in clear in each: a stream_snapshots row of another
	// fingerprint and a row of the one-per-stream snapshots table
	pool := pgtest.New(t)
	dbURL := pool.Config().ConnString()
	const clearState = `{"shipping_address":{"name":"Ada Snapshot","line1":"1 Way"}}`
	if _, err := pool.Exec(t.Context(), `INSERT INTO stream_snapshots (stream_id, fingerprint, version, occurred_until, state)
VALUES ($1, 'an earlier build', 10, now(), $2::jsonb)`, uuid.New(), clearState); err != nil {
		t.Fatal(err)
	}
	if _, err := pool.Exec(t.Context(), `INSERT INTO snapshots (stream_id, fingerprint, version, state)
VALUES ($1, 'an earlier build', 10, $2::jsonb)`, uuid.New(), clearState); err != nil {
		t.Fatal(err)
	}
	// And a snapshot of this build's fingerprint
	current, err := snapshot.Fingerprint(codec.New(codec.Config{DefaultCurrency: "USD"}))
	if err != nil {
		t.Fatal(err)
	}
	kept := uuid.New()
	if _, err := pool.Exec(t.Context(), `INSERT INTO stream_snapshots (stream_id, fingerprint, version, occurred_until, state)
VALUES ($1, $2, 10, now(), '{}')`, kept, current); err != nil {
		t.Fatal(err)
	}

	// When personal-data seal runs
	vars := env(withMasterKey(t, map[string]string{"DATABASE_URL": dbURL, "LOG_LEVEL": "warn"}))
	var out strings.Builder
	if err := run(context.Background(), []string{"orderapi", "personal-data", "seal"}, vars, &out); err != nil {
		t.Fatal(err)
	}

	// Then the earlier builds' snapshots are gone, and it says how many
	if !strings.Contains(out.String(), "deleted 2 snapshots of earlier builds") {
		t.Errorf("personal-data seal printed %q", out.String())
	}
	var inClear int
	if err := pool.QueryRow(t.Context(), `SELECT (SELECT count(*) FROM stream_snapshots WHERE state::text LIKE '%Ada Snapshot%')
     + (SELECT count(*) FROM snapshots WHERE state::text LIKE '%Ada Snapshot%')`).Scan(&inClear); err != nil {
		t.Fatal(err)
	}
	if inClear != 0 {
		t.Errorf("%d snapshots still hold the address in clear", inClear)
	}
	// And this build's snapshot is kept
	var n int
	if err := pool.QueryRow(t.Context(), `SELECT count(*) FROM stream_snapshots WHERE stream_id = $1`, kept).Scan(&n); err != nil || n != 1 {
		t.Errorf("this build's snapshots: %d, %v; want 1", n, err)
	}
}
