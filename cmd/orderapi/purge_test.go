package main

import (
	"context"
	"testing"
	"time"

	"github.com/orderapi/orderapi/internal/adapters/postgres/eventstore"
	"github.com/orderapi/orderapi/internal/adapters/postgres/pgtest"
	"github.com/rs/zerolog"
)

func TestPurgeIdempotencyKeysInBackground(t *testing.T) {
	t.Parallel()
	pool := pgtest.New(t)
	ctx := context.Background()
	// Given more expired keys than one batch holds, and a live one
	_, err := pool.Exec(ctx, `
INSERT INTO idempotency_keys (key, fingerprint, order_id, version, position, expires_at)
SELECT 'k' || i, sha256(('k' || i)::bytea), gen_random_uuid(), 1, i,
       CASE WHEN i = 0 THEN now() + interval '1 hour' ELSE now() - interval '1 second' END
  FROM generate_series(0, $1) AS i`, idempotencyPurgeBatch+10)
	if err != nil {
		t.Fatal(err)
	}

	// When the purge runs in the background
	stop := background(ctx, purgeIdempotencyKeys(eventstore.New(pool, eventstore.Config{}), zerolog.New(zerolog.NewTestWriter(t)), 10*time.Millisecond))
	defer stop()

	// Then the expired keys go, the live one stays
	deadline := time.Now().Add(30 * time.Second)
	for {
		var left int
		var live bool
		if err := pool.QueryRow(ctx, `SELECT count(*), bool_or(key = 'k0') FROM idempotency_keys`).Scan(&left, &live); err != nil {
			t.Fatal(err)
		}
		if left == 1 && live {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d keys left (live one kept: %v), want the live one only", left, live)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
