package eventstore

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/orderapi/orderapi/internal/adapters/postgres"
	"github.com/rs/zerolog"
)

// snapshotWriteTimeout bounds one snapshot write, so that a connection
// that hangs cannot stall the writer for good.
const snapshotWriteTimeout = 5 * time.Second

// snapshotLockWait bounds how long a snapshot write waits for a row lock.
// An erasure deletes the snapshots of its customer's orders: a write that
// deleted one of a stream's rows and then waits to insert over another
// the erasure deleted deadlocks with it, and PostgreSQL might end the
// erasure. Well below deadlock_timeout (1 s unless set otherwise), the
// write gives way first: it is a cache's, lost at the cost of a longer
// fold.
const snapshotLockWait = 200 * time.Millisecond

// clearSnapshotsSQL deletes, before a write, the stream's rows of other
// fingerprints, which no build that could trust them will read through
// this one's writes, and the row a read could not use (@unusable, or
// NULL).
const clearSnapshotsSQL = `
DELETE FROM stream_snapshots
 WHERE stream_id = @stream_id::uuid AND (fingerprint <> @fingerprint::text OR version = @unusable::integer)`

// saveSnapshotsSQL stores states of one stream under this build's
// fingerprint, in one statement. A version already stored is kept: the
// state of a stream at a version never changes, and two reads may offer
// the same one.
const saveSnapshotsSQL = `
INSERT INTO stream_snapshots (stream_id, fingerprint, version, occurred_until, state)
SELECT @stream_id::uuid, @fingerprint::text, s.version, s.occurred_until, s.state::jsonb
  FROM unnest(@versions::integer[], @untils::timestamptz[], @states::text[]) AS s(version, occurred_until, state)
ON CONFLICT (stream_id, fingerprint, version) DO NOTHING`

// The statements with positional parameters.
var (
	clearSnapshotsStatement = postgres.CompileNamed(clearSnapshotsSQL)
	saveSnapshotsStatement  = postgres.CompileNamed(saveSnapshotsSQL)
)

// SnapshotWriter stores the snapshots that reads hand over. Its Run is
// the only writer of the stream_snapshots table; without it running,
// reads still use snapshots but queue nothing. A write that is lost only
// costs a later read a longer fold. See docs/design.md, "Snapshots and
// their fingerprints".
type SnapshotWriter struct {
	store *Store
	log   zerolog.Logger
}

// NewSnapshotWriter returns the writer of the store's snapshots.
func NewSnapshotWriter(s *Store, log zerolog.Logger) *SnapshotWriter {
	return &SnapshotWriter{store: s, log: log}
}

// Run writes the states reads queue until ctx ends, then returns its
// error, leaving what is still queued unwritten. A failed write is logged
// and counted, never retried. With snapshots off it returns nil at once.
func (w *SnapshotWriter) Run(ctx context.Context) error {
	sn := w.store.snaps
	if sn == nil {
		if err := w.store.snapsErr; err != nil {
			w.log.Error().Err(err).Msg("snapshots are off")
		}
		return nil
	}
	sn.writers.Add(1)
	defer sn.writers.Add(-1)
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case req := <-sn.queue:
			if req.unusable > 0 {
				w.log.Warn().Err(req.reason).Str("order_id", req.id.String()).Int("version", req.unusable).
					Msg("deleting an unusable snapshot")
			}
			if _, err := w.store.saveSnapshot(ctx, req); err != nil && ctx.Err() == nil {
				w.log.Warn().Err(err).Str("order_id", req.id.String()).Msg("write snapshots")
			}
		}
	}
}

// saveSnapshot stores a read's states and reports how many were stored. A
// failure is counted, unless ctx ended (a shutdown, not a fault).
func (s *Store) saveSnapshot(ctx context.Context, req snapshotWrite) (int, error) {
	sn := s.snaps
	if sn == nil {
		return 0, fmt.Errorf("save snapshots: snapshots are off")
	}
	wctx, cancel := context.WithTimeout(ctx, snapshotWriteTimeout)
	defer cancel()
	stored, err := s.writeSnapshot(wctx, sn.fingerprint, req)
	if err != nil {
		if ctx.Err() == nil {
			sn.failed.Add(1)
		}
		return 0, fmt.Errorf("save snapshots of order %s: %w", req.id, err)
	}
	sn.written.Add(uint64(stored))
	return stored, nil
}

// writeSnapshot runs the write of one read's offer under a fingerprint, in
// one transaction and one round trip.
func (s *Store) writeSnapshot(ctx context.Context, fingerprint string, req snapshotWrite) (int, error) {
	versions := make([]int32, len(req.states))
	untils := make([]time.Time, len(req.states))
	states := make([]string, len(req.states))
	for i, st := range req.states {
		o := st.state
		if o.Version < 1 || o.ID != req.id {
			return 0, fmt.Errorf("a state of order %s at version %d is no snapshot of order %s", o.ID, o.Version, req.id)
		}
		data, err := s.encodeSnapshot(ctx, o, st.keys)
		if err != nil {
			return 0, err
		}
		versions[i], untils[i], states[i] = int32(o.Version), st.until, string(data)
	}
	var unusable any // NULL: no row to delete regardless
	if req.unusable > 0 {
		unusable = req.unusable
	}
	clearSQL, clearArgs, err := clearSnapshotsStatement.Bind(pgx.StrictNamedArgs{
		"stream_id": postgres.UUID(req.id), "fingerprint": fingerprint, "unusable": unusable,
	})
	if err != nil {
		return 0, err
	}
	saveSQL, saveArgs, err := saveSnapshotsStatement.Bind(pgx.StrictNamedArgs{
		"stream_id": postgres.UUID(req.id), "fingerprint": fingerprint,
		"versions": versions, "untils": untils, "states": states,
	})
	if err != nil {
		return 0, err
	}
	// A snapshot is a cache: its commit need not wait for a flush.
	var stored int
	b := postgres.RelaxedBatch()
	b.Queue(fmt.Sprintf("SET LOCAL lock_timeout = %d", snapshotLockWait.Milliseconds()))
	b.Queue(clearSQL, clearArgs...)
	b.Queue(saveSQL, saveArgs...).Exec(func(tag pgconn.CommandTag) error {
		stored = int(tag.RowsAffected())
		return nil
	})
	b.Queue("COMMIT")
	if err := s.pool.SendBatch(ctx, b).Close(); err != nil {
		return 0, err
	}
	return stored, nil
}
