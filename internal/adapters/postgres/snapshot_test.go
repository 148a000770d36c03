package postgres_test

import (
	"context"
	"reflect"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/orderapi/orderapi/internal/adapters/postgres"
	"github.com/orderapi/orderapi/internal/adapters/postgres/pgtest"
	"github.com/orderapi/orderapi/internal/domain/order"
)

// snapshotStore gives the test a store with snapshots every n events over
// a fresh database.
func snapshotStore(t *testing.T, every int) (*postgres.Store, *pgxpool.Pool) {
	t.Helper()
	pool := pgtest.New(t)
	return postgres.NewStore(pool, postgres.WithSnapshots(every)), pool
}

// longOrder appends an order of n events: created, then a line added and
// removed in turn, and at last placed when n allows.
func longOrder(t *testing.T, s *postgres.Store, n int) order.Order {
	t.Helper()
	at := t0
	o := create(t, s, uuid.New(), uuid.New(), at)
	product := uuid.New()
	for o.Version < n {
		at = at.Add(time.Second)
		switch {
		case len(o.Items) == 0:
			o = do(t, s, o, at, func(o *order.Order) ([]order.Event, error) {
				return o.AddItem(order.NewItem{ProductID: product, ProductName: "Mug", Quantity: 2, UnitPrice: dec("4.50")})
			})
		case o.Version == n-1:
			o = do(t, s, o, at, place)
		default:
			o = do(t, s, o, at, func(o *order.Order) ([]order.Event, error) { return o.RemoveItem(product) })
		}
	}
	return o
}

// snapshotRow is one row of the snapshots table.
type snapshotRow struct {
	Fingerprint string
	Version     int
}

func snapshotRows(t *testing.T, pool *pgxpool.Pool, id uuid.UUID) []snapshotRow {
	t.Helper()
	rows, err := pool.Query(context.Background(), `SELECT fingerprint, version FROM snapshots WHERE stream_id = $1 ORDER BY 1`, id)
	if err != nil {
		t.Fatal(err)
	}
	var got []snapshotRow
	for rows.Next() {
		var r snapshotRow
		if err := rows.Scan(&r.Fingerprint, &r.Version); err != nil {
			t.Fatal(err)
		}
		got = append(got, r)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return got
}

func mustLoad(t *testing.T, s *postgres.Store, id uuid.UUID) order.Order {
	t.Helper()
	o, err := s.Load(context.Background(), id)
	if err != nil {
		t.Fatalf("load: %v", err)
	}
	return o
}

// tampered is o with a change no event made: a snapshot of it shows
// whether a read trusted the snapshot.
func tampered(o order.Order) order.Order {
	o.CancelledBy = "not from the events"
	return o
}

// TestOnlyLoadTrustsSnapshots: time travel and the projections' check
// replay the events alone.
func TestOnlyLoadTrustsSnapshots(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	s, _ := snapshotStore(t, 100)
	o := longOrder(t, s, 6)
	if _, err := s.SaveSnapshot(ctx, tampered(o)); err != nil {
		t.Fatal(err)
	}

	if got := mustLoad(t, s, o.ID); got.CancelledBy != tampered(o).CancelledBy {
		t.Fatalf("Load did not start from the snapshot: %+v", got)
	}
	if got, err := s.LoadVersion(ctx, o.ID, o.Version); err != nil || !reflect.DeepEqual(got, o) {
		t.Errorf("LoadVersion = %+v, %v; want the replay %+v", got, err, o)
	}
	if got, err := s.LoadAsOf(ctx, o.ID, time.Now()); err != nil || !reflect.DeepEqual(got, o) {
		t.Errorf("LoadAsOf = %+v, %v; want the replay %+v", got, err, o)
	}
	if rep := verifyProjections(t, s); rep.Total != 0 {
		t.Errorf("verify found %d differences: %v", rep.Total, rep.Differences)
	}
}

func TestLoadIgnoresAnotherBuildsSnapshot(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	// Given an order whose snapshot another build wrote
	s, pool := snapshotStore(t, 3)
	o := longOrder(t, s, 5)
	if err := s.SaveSnapshotAs(ctx, "another-build", tampered(o)); err != nil {
		t.Fatal(err)
	}

	// When it is loaded, then the stream is replayed whole: a miss
	if got := mustLoad(t, s, o.ID); !reflect.DeepEqual(got, o) {
		t.Fatalf("loaded %+v, want the replay %+v", got, o)
	}
	if st := s.SnapshotStats(); st.Hits != 0 || st.Misses != 1 || st.Failed != 0 {
		t.Fatalf("stats %+v, want one miss", st)
	}

	// When a writer runs and the order is loaded again, then this build's
	// snapshot replaces the other's
	runWriter(t, s)
	mustLoad(t, s, o.ID)
	want := []snapshotRow{{s.SnapshotFingerprint(), o.Version}}
	eventually(t, "the snapshot replaced", func() bool { return reflect.DeepEqual(snapshotRows(t, pool, o.ID), want) })
	if got := mustLoad(t, s, o.ID); !reflect.DeepEqual(got, o) || s.SnapshotStats().Hits != 1 {
		t.Fatalf("loaded %+v with stats %+v, want a hit on %+v", got, s.SnapshotStats(), o)
	}
}

func TestAnOlderSnapshotNeverReplacesANewerOne(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	s, pool := snapshotStore(t, 100)
	o := longOrder(t, s, 8)
	older, err := s.LoadVersion(ctx, o.ID, 4)
	if err != nil {
		t.Fatal(err)
	}

	for _, step := range []struct {
		state  order.Order
		stored bool
	}{{o, true}, {older, false}, {o, false}} {
		stored, err := s.SaveSnapshot(ctx, step.state)
		if err != nil || stored != step.stored {
			t.Fatalf("save version %d: stored %t, %v; want %t", step.state.Version, stored, err, step.stored)
		}
	}
	if got := snapshotRows(t, pool, o.ID); !reflect.DeepEqual(got, []snapshotRow{{s.SnapshotFingerprint(), 8}}) {
		t.Fatalf("rows %+v, want version 8 only", got)
	}
	if got := mustLoad(t, s, o.ID); !reflect.DeepEqual(got, o) || s.SnapshotStats() != (postgres.SnapshotStats{Hits: 1, Written: 1}) {
		t.Fatalf("loaded %+v with stats %+v", got, s.SnapshotStats())
	}
}

// TestAnUnusableSnapshotIsAMiss: a row that cannot be decoded, or that
// the stream does not reach, is counted and replayed around, never an
// error; a writer then replaces it, whatever version it claims.
func TestAnUnusableSnapshotIsAMiss(t *testing.T) {
	t.Parallel()
	for name, spoil := range map[string]func(context.Context, *postgres.Store, *pgxpool.Pool, order.Order) error{
		"garbage": func(ctx context.Context, _ *postgres.Store, pool *pgxpool.Pool, _ order.Order) error {
			_, err := pool.Exec(ctx, `UPDATE snapshots SET state = '{"garbage": true}'`)
			return err
		},
		"not an object": func(ctx context.Context, _ *postgres.Store, pool *pgxpool.Pool, _ order.Order) error {
			_, err := pool.Exec(ctx, `UPDATE snapshots SET state = '"text"'`)
			return err
		},
		"a field missing": func(ctx context.Context, _ *postgres.Store, pool *pgxpool.Pool, _ order.Order) error {
			_, err := pool.Exec(ctx, `UPDATE snapshots SET state = state - 'status'`)
			return err
		},
		"the version of another row": func(ctx context.Context, _ *postgres.Store, pool *pgxpool.Pool, _ order.Order) error {
			_, err := pool.Exec(ctx, `UPDATE snapshots SET version = version - 1`)
			return err
		},
		"past the stream's end": func(ctx context.Context, s *postgres.Store, _ *pgxpool.Pool, o order.Order) error {
			o.Version += 5
			_, err := s.SaveSnapshot(ctx, o)
			return err
		},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			ctx := t.Context()
			// Given an order whose snapshot is spoilt
			s, pool := snapshotStore(t, 100)
			o := longOrder(t, s, 6)
			if _, err := s.SaveSnapshot(ctx, o); err != nil {
				t.Fatal(err)
			}
			if err := spoil(ctx, s, pool, o); err != nil {
				t.Fatal(err)
			}

			// When it is loaded, then it is replayed: a miss and a failure
			if got := mustLoad(t, s, o.ID); !reflect.DeepEqual(got, o) {
				t.Fatalf("loaded %+v, want %+v", got, o)
			}
			if st := s.SnapshotStats(); st.Hits != 0 || st.Misses != 1 || st.Failed != 1 {
				t.Fatalf("stats %+v, want one miss, one failure", st)
			}

			// When a writer runs and it is loaded again, then the row is
			// replaced by a usable one
			written := s.SnapshotStats().Written
			runWriter(t, s)
			mustLoad(t, s, o.ID)
			eventually(t, "the row replaced", func() bool { return s.SnapshotStats().Written == written+1 })
			if got := mustLoad(t, s, o.ID); !reflect.DeepEqual(got, o) || s.SnapshotStats().Hits != 1 {
				t.Fatalf("loaded %+v with stats %+v, want a hit", got, s.SnapshotStats())
			}
		})
	}
}

func TestSnapshotsOffReadAndWriteNothing(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	// Given an order with a snapshot that a store with snapshots on trusts
	on, pool := snapshotStore(t, 1)
	o := longOrder(t, on, 4)
	if _, err := on.SaveSnapshot(ctx, tampered(o)); err != nil {
		t.Fatal(err)
	}

	for name, off := range map[string]*postgres.Store{
		"no option":  postgres.NewStore(pool),
		"every zero": postgres.NewStore(pool, postgres.WithSnapshots(0)),
	} {
		// When a store with snapshots off loads it, then it replays
		if got := mustLoad(t, off, o.ID); !reflect.DeepEqual(got, o) {
			t.Errorf("%s: loaded %+v, want the replay %+v", name, got, o)
		}
		if _, err := off.SaveSnapshot(ctx, o); err == nil {
			t.Errorf("%s: saved a snapshot", name)
		}
		if st := off.SnapshotStats(); st != (postgres.SnapshotStats{}) {
			t.Errorf("%s: stats %+v", name, st)
		}
	}
}
