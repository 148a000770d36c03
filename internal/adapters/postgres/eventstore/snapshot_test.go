package eventstore_test

import (
	"context"
	"reflect"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/orderapi/orderapi/internal/adapters/postgres/eventstore"
	"github.com/orderapi/orderapi/internal/adapters/postgres/eventstore/eventstoretest"
	"github.com/orderapi/orderapi/internal/adapters/postgres/pgtest"
	"github.com/orderapi/orderapi/internal/adapters/postgres/projections"
	"github.com/orderapi/orderapi/internal/domain/order"
)

// snapshotStore gives the test a store with snapshots every n events over
// a fresh database.
func snapshotStore(t *testing.T, every int) (*eventstore.Store, *pgxpool.Pool) {
	t.Helper()
	pool := pgtest.New(t)
	return eventstore.New(pool, eventstore.Config{SnapshotEvery: every, Keyring: eventstoretest.Keyring(t, pool)}), pool
}

// longOrder appends an order of n events: created, then a line added and
// removed in turn, and at last placed when n allows.
func longOrder(t *testing.T, s *eventstore.Store, n int) order.Order {
	t.Helper()
	at := t0
	o := create(t, s, uuid.New(), uuid.New(), at)
	product := uuid.New()
	for o.Version < n {
		at = at.Add(time.Second)
		switch {
		case len(o.Items) == 0:
			o = do(t, s, o, at, func(o *order.Order) ([]order.Event, error) {
				return o.AddItem(order.NewItem{ProductID: product, ProductName: "Mug", Quantity: 2, UnitPrice: price("4.50")})
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
	rows, err := pool.Query(context.Background(), `SELECT fingerprint, version FROM stream_snapshots WHERE stream_id = $1 ORDER BY 1, 2`, id)
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

func mustLoad(t *testing.T, s *eventstore.Store, id uuid.UUID) order.Order {
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

// TestTimeTravelStartsFromSnapshots: every read of an order's state,
// past ones too, starts from the newest snapshot within its bound; the
// projections' check folds the events alone.
func TestTimeTravelStartsFromSnapshots(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	// Given an order of 6 events, the k-th at t0 + k-1 seconds, with a
	// snapshot at version 4 that shows whether a read trusted it
	s, pool := snapshotStore(t, 100)
	o := longOrder(t, s, 6)
	v4, err := s.LoadVersion(ctx, o.ID, 4)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.SaveSnapshot(ctx, tampered(v4)); err != nil {
		t.Fatal(err)
	}
	fromSnapshot := func(got order.Order, err error) bool {
		return err == nil && got.CancelledBy == tampered(o).CancelledBy
	}

	// When it is read now, at version 4 or later, or as of version 4's
	// time or later, then the read started from the snapshot
	if got := mustLoad(t, s, o.ID); !fromSnapshot(got, nil) {
		t.Errorf("Load did not start from the snapshot: %+v", got)
	}
	for v := 4; v <= 6; v++ {
		if got, err := s.LoadVersion(ctx, o.ID, v); !fromSnapshot(got, err) || got.Version != v {
			t.Errorf("LoadVersion(%d) did not start from the snapshot: %+v, %v", v, got, err)
		}
	}
	if got, err := s.LoadAsOf(ctx, o.ID, t0.Add(3*time.Second)); !fromSnapshot(got, err) || got.Version != 4 {
		t.Errorf("LoadAsOf version 4's time did not start from the snapshot: %+v, %v", got, err)
	}

	// When it is read before the snapshot, then it is the replay
	want, err := eventstore.New(pool, eventstore.Config{}).LoadVersion(ctx, o.ID, 3)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := s.LoadVersion(ctx, o.ID, 3); err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("LoadVersion(3) = %+v, %v; want the replay %+v", got, err, want)
	}
	if got, err := s.LoadAsOf(ctx, o.ID, t0.Add(3*time.Second-time.Microsecond)); err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("LoadAsOf before version 4 = %+v, %v; want the replay %+v", got, err, want)
	}
	// and the projections' check trusts no snapshot
	if rep, err := projections.Verify(ctx, s, 100); err != nil || rep.Total != 0 {
		t.Errorf("verify found %d differences: %v (%v)", rep.Total, rep.Differences, err)
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
	// snapshot at the multiple of 3 the load passed replaces the other's
	runWriter(t, s)
	mustLoad(t, s, o.ID)
	want := []snapshotRow{{s.SnapshotFingerprint(), 3}}
	eventually(t, "the snapshot replaced", func() bool { return reflect.DeepEqual(snapshotRows(t, pool, o.ID), want) })
	if got := mustLoad(t, s, o.ID); !reflect.DeepEqual(got, o) || s.SnapshotStats().Hits != 1 {
		t.Fatalf("loaded %+v with stats %+v, want a hit on %+v", got, s.SnapshotStats(), o)
	}
}

// TestSnapshotsAtSeveralVersions: a stream keeps snapshots at several
// versions, each stored once, and each read starts from the newest within
// its bound.
func TestSnapshotsAtSeveralVersions(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	// Given an order of 8 events with snapshots at 8 and 4, stored in
	// that order, and 8 once more
	s, pool := snapshotStore(t, 100)
	o := longOrder(t, s, 8)
	older, err := eventstore.New(pool, eventstore.Config{}).LoadVersion(ctx, o.ID, 4)
	if err != nil {
		t.Fatal(err)
	}
	for _, step := range []struct {
		state  order.Order
		stored bool
	}{{o, true}, {older, true}, {o, false}} {
		stored, err := s.SaveSnapshot(ctx, step.state)
		if err != nil || stored != step.stored {
			t.Fatalf("save version %d: stored %t, %v; want %t", step.state.Version, stored, err, step.stored)
		}
	}
	fp := s.SnapshotFingerprint()
	if got := snapshotRows(t, pool, o.ID); !reflect.DeepEqual(got, []snapshotRow{{fp, 4}, {fp, 8}}) {
		t.Fatalf("rows %+v, want versions 4 and 8", got)
	}

	// When it is read now, at 6 and at 3
	if got := mustLoad(t, s, o.ID); !reflect.DeepEqual(got, o) {
		t.Fatalf("loaded %+v, want %+v", got, o)
	}
	for _, v := range []int{6, 3} {
		got, err := s.LoadVersion(ctx, o.ID, v)
		if want, _ := eventstore.New(pool, eventstore.Config{}).LoadVersion(ctx, o.ID, v); err != nil || !reflect.DeepEqual(got, want) {
			t.Fatalf("version %d: %+v, %v; want %+v", v, got, err, want)
		}
	}
	// Then they folded 0 events after 8, 2 after 4, and 3 from the start
	if st := s.SnapshotStats(); st != (eventstore.SnapshotStats{Hits: 2, Misses: 1, Written: 2, Folded: 5}) {
		t.Fatalf("stats %+v", st)
	}
}

// TestAnUnusableSnapshotIsAMiss: a row that cannot be decoded, or that
// the stream does not reach, is counted and folded around, never an
// error; a writer then deletes it, whatever version it claims, and stores
// the snapshots the fold around it passed.
func TestAnUnusableSnapshotIsAMiss(t *testing.T) {
	t.Parallel()
	for name, spoil := range map[string]func(context.Context, *eventstore.Store, *pgxpool.Pool, order.Order) error{
		"garbage": func(ctx context.Context, _ *eventstore.Store, pool *pgxpool.Pool, _ order.Order) error {
			_, err := pool.Exec(ctx, `UPDATE stream_snapshots SET state = '{"garbage": true}'`)
			return err
		},
		"not an object": func(ctx context.Context, _ *eventstore.Store, pool *pgxpool.Pool, _ order.Order) error {
			_, err := pool.Exec(ctx, `UPDATE stream_snapshots SET state = '"text"'`)
			return err
		},
		"a field missing": func(ctx context.Context, _ *eventstore.Store, pool *pgxpool.Pool, _ order.Order) error {
			_, err := pool.Exec(ctx, `UPDATE stream_snapshots SET state = state - 'status'`)
			return err
		},
		"the version of another row": func(ctx context.Context, _ *eventstore.Store, pool *pgxpool.Pool, _ order.Order) error {
			_, err := pool.Exec(ctx, `UPDATE stream_snapshots SET version = version - 1`)
			return err
		},
		"past the stream's end": func(ctx context.Context, s *eventstore.Store, pool *pgxpool.Pool, o order.Order) error {
			if _, err := pool.Exec(ctx, `DELETE FROM stream_snapshots`); err != nil {
				return err
			}
			o.Version += 5
			_, err := s.SaveSnapshot(ctx, o)
			return err
		},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			ctx := t.Context()
			// Given an order of 6 events whose snapshot at 6 is spoilt, in
			// a store that snapshots every 3 events
			s, pool := snapshotStore(t, 3)
			o := longOrder(t, s, 6)
			if _, err := s.SaveSnapshot(ctx, o); err != nil {
				t.Fatal(err)
			}
			if err := spoil(ctx, s, pool, o); err != nil {
				t.Fatal(err)
			}

			// When it is loaded, then it is folded from the start: a miss
			// and a failure
			if got := mustLoad(t, s, o.ID); !reflect.DeepEqual(got, o) {
				t.Fatalf("loaded %+v, want %+v", got, o)
			}
			if st := s.SnapshotStats(); st.Hits != 0 || st.Misses != 1 || st.Failed != 1 {
				t.Fatalf("stats %+v, want one miss, one failure", st)
			}

			// When a writer runs and it is loaded again, then the row is
			// replaced by the usable ones at 3 and 6
			runWriter(t, s)
			mustLoad(t, s, o.ID)
			fp := s.SnapshotFingerprint()
			eventually(t, "the row replaced", func() bool {
				return reflect.DeepEqual(snapshotRows(t, pool, o.ID), []snapshotRow{{fp, 3}, {fp, 6}})
			})
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

	for name, off := range map[string]*eventstore.Store{
		"no option":  eventstore.New(pool, eventstore.Config{}),
		"every zero": eventstore.New(pool, eventstore.Config{SnapshotEvery: 0}),
	} {
		// When a store with snapshots off loads it, then it replays
		if got := mustLoad(t, off, o.ID); !reflect.DeepEqual(got, o) {
			t.Errorf("%s: loaded %+v, want the replay %+v", name, got, o)
		}
		if _, err := off.SaveSnapshot(ctx, o); err == nil {
			t.Errorf("%s: saved a snapshot", name)
		}
		if st := off.SnapshotStats(); st != (eventstore.SnapshotStats{}) {
			t.Errorf("%s: stats %+v", name, st)
		}
	}
}
