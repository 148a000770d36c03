package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/rs/zerolog"
)

// snapshotWriteTimeout bounds one snapshot write, so that a connection
// that hangs cannot stall the writer for good.
const snapshotWriteTimeout = 5 * time.Second

// saveSnapshotSQL stores a state as its stream's snapshot under this
// build's fingerprint, in one statement. The upsert goes forward only: a
// state older than the stored one changes nothing (two loads may hand
// their states over in either order), unless the stored row is the one a
// load could not use. The stream's rows of other fingerprints are
// deleted: no build that could trust them will read them through this
// one's writes.
const saveSnapshotSQL = `
WITH foreign_rows AS (
    DELETE FROM snapshots WHERE stream_id = @stream_id::uuid AND fingerprint <> @fingerprint::text
)
INSERT INTO snapshots AS s (stream_id, fingerprint, version, state)
VALUES (@stream_id::uuid, @fingerprint::text, @version::integer, @state::text::jsonb)
ON CONFLICT (stream_id, fingerprint) DO UPDATE
   SET version = EXCLUDED.version, state = EXCLUDED.state, created_at = EXCLUDED.created_at
 WHERE s.version < EXCLUDED.version OR s.version = @unusable::integer`

// saveSnapshotStatement is saveSnapshotSQL with positional parameters.
var saveSnapshotStatement = compileNamed(saveSnapshotSQL)

// SnapshotWriter stores the snapshots that Load hands over. Its Run is
// the only writer of the snapshots table; without it running, loads still
// read snapshots but queue nothing.
//
// Snapshots are written after the load that found a state worth keeping,
// by this separate worker, and not in the append's statement: the append
// stays one short statement whatever the stream's length, the command
// that loaded waits for nothing, and since a snapshot is only a cache, a
// write that is lost (dropped when the writer is busy, failed, or cut off
// by shutdown) only costs a later load a longer replay, which then offers
// the state again. The cost of a write is spread over every events folded
// before it.
type SnapshotWriter struct {
	store *Store
	log   zerolog.Logger
}

// NewSnapshotWriter returns the writer of the store's snapshots.
func NewSnapshotWriter(s *Store, log zerolog.Logger) *SnapshotWriter {
	return &SnapshotWriter{store: s, log: log}
}

// Run writes the states loads queue until ctx ends, then returns its
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
				w.log.Warn().Err(req.reason).Str("order_id", req.state.ID.String()).Int("version", req.unusable).
					Msg("replacing an unusable snapshot")
			}
			if _, err := w.store.saveSnapshot(ctx, req); err != nil && ctx.Err() == nil {
				w.log.Warn().Err(err).Str("order_id", req.state.ID.String()).Msg("write snapshot")
			}
		}
	}
}

// saveSnapshot stores one state and reports whether it was stored. A
// failure is counted, unless ctx ended (a shutdown, not a fault).
func (s *Store) saveSnapshot(ctx context.Context, req snapshotWrite) (bool, error) {
	sn := s.snaps
	if sn == nil {
		return false, fmt.Errorf("save snapshot: snapshots are off")
	}
	wctx, cancel := context.WithTimeout(ctx, snapshotWriteTimeout)
	defer cancel()
	stored, err := s.writeSnapshot(wctx, sn.fingerprint, req)
	if err != nil {
		if ctx.Err() == nil {
			sn.failed.Add(1)
		}
		return false, fmt.Errorf("save snapshot of order %s at version %d: %w", req.state.ID, req.state.Version, err)
	}
	if stored {
		sn.written.Add(1)
	}
	return stored, nil
}

func (s *Store) writeSnapshot(ctx context.Context, fingerprint string, req snapshotWrite) (bool, error) {
	o := req.state
	if o.Version < 1 {
		return false, fmt.Errorf("the state is at version %d", o.Version)
	}
	state, err := encodeSnapshot(o)
	if err != nil {
		return false, err
	}
	var unusable any // NULL: no row to replace regardless
	if req.unusable > 0 {
		unusable = req.unusable
	}
	// A snapshot is a cache: its commit need not wait for a flush.
	var stored bool
	b := relaxedBatch()
	sql, args, err := saveSnapshotStatement.bind(pgx.StrictNamedArgs{
		"stream_id":   pgUUID(o.ID),
		"fingerprint": fingerprint,
		"version":     o.Version,
		"state":       string(state),
		"unusable":    unusable,
	})
	if err != nil {
		return false, err
	}
	b.Queue(sql, args...).Exec(func(tag pgconn.CommandTag) error {
		stored = tag.RowsAffected() == 1
		return nil
	})
	b.Queue("COMMIT")
	if err := s.pool.SendBatch(ctx, b).Close(); err != nil {
		return false, err
	}
	return stored, nil
}
