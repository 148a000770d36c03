// Package relaystate keeps, in the broker_checkpoints table, how far each
// broker stream holds the global feed and why its relay is stopped, so
// that the relay resumes from a record of its own rather than from what
// the stream says, and every replica reports the same state.
package relaystate

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/orderapi/orderapi/internal/adapters/postgres"
	"github.com/orderapi/orderapi/internal/app"
)

// Store reads and writes the relay's records.
type Store struct{ pool *pgxpool.Pool }

// New returns the store over pool.
func New(pool *pgxpool.Pool) *Store { return &Store{pool: pool} }

// loadSQL reads a stream's record; a primary-key lookup, cheap enough for
// every readiness probe.
const loadSQL = `
SELECT transaction_id, position, event_id, stream_sequence, epoch, updated_at,
       stopped_code, stopped_event_id, stopped_position, stopped_reason, stopped_since
  FROM broker_checkpoints WHERE stream = $1`

// Load returns what is recorded of stream; the zero state when nothing is.
func (s *Store) Load(ctx context.Context, stream string) (_ app.BrokerState, err error) {
	defer postgres.MarkUnavailable(&err)
	var (
		st            app.BrokerState
		tx            *uint64
		pos, seq      *int64
		id, stoppedID *uuid.UUID
		stoppedAt     *int64
		code, reason  *string
		since         *time.Time
	)
	err = s.pool.QueryRow(ctx, loadSQL, stream).Scan(&tx, &pos, &id, &seq, &st.Checkpoint.Epoch, &st.UpdatedAt,
		&code, &stoppedID, &stoppedAt, &reason, &since)
	if errors.Is(err, pgx.ErrNoRows) {
		return app.BrokerState{}, nil
	}
	if err != nil {
		return app.BrokerState{}, fmt.Errorf("read the checkpoint of stream %s: %w", stream, err)
	}
	if seq != nil && tx != nil && pos != nil {
		st.Taken = true
		st.Checkpoint.Cursor = app.FeedCursor{TransactionID: *tx, Position: *pos}
		st.Checkpoint.Sequence = uint64(*seq)
		if id != nil {
			st.Checkpoint.EventID = *id
		}
	}
	st.UpdatedAt = st.UpdatedAt.UTC()
	if code != nil && reason != nil && since != nil {
		st.Stopped = &app.ProjectionStall{Code: *code, Reason: *reason, Since: since.UTC()}
		if stoppedID != nil && stoppedAt != nil {
			st.Stopped.EventID, st.Stopped.Position = *stoppedID, *stoppedAt
		}
	}
	return st, nil
}

// advanceSQL records a checkpoint: the first, or a later one in the same
// epoch. A relay whose epoch an operator moved on, or that is behind
// another (two that both believed they held the lock), changes nothing.
const advanceSQL = `
INSERT INTO broker_checkpoints AS c (stream, transaction_id, position, event_id, stream_sequence, epoch)
VALUES ($1, $2, $3, $4, $5, $6)
    ON CONFLICT (stream) DO UPDATE
   SET transaction_id = EXCLUDED.transaction_id, position = EXCLUDED.position, event_id = EXCLUDED.event_id,
       stream_sequence = EXCLUDED.stream_sequence, updated_at = now()
 WHERE c.epoch = EXCLUDED.epoch
   AND (c.stream_sequence IS NULL OR c.stream_sequence <= EXCLUDED.stream_sequence)`

// Advance records cp as stream's checkpoint, and reports whether it did:
// false when the record moved on without this caller (a resume, or
// another relay ahead of it).
func (s *Store) Advance(ctx context.Context, stream string, cp app.BrokerCheckpoint) (_ bool, err error) {
	defer postgres.MarkUnavailable(&err)
	tag, err := s.pool.Exec(ctx, advanceSQL, stream, cp.Cursor.TransactionID, cp.Cursor.Position,
		eventID(cp.EventID), int64(cp.Sequence), cp.Epoch)
	if err != nil {
		return false, fmt.Errorf("record the checkpoint of stream %s: %w", stream, err)
	}
	return tag.RowsAffected() == 1, nil
}

// resumeSQL is an operator's decision: the checkpoint is cp, in a new
// epoch (1 for a stream without a record, whose relay read epoch 0), and
// whatever stopped the relay is forgotten.
const resumeSQL = `
INSERT INTO broker_checkpoints AS c (stream, transaction_id, position, event_id, stream_sequence, epoch)
VALUES ($1, $2, $3, $4, $5, 1)
    ON CONFLICT (stream) DO UPDATE
   SET transaction_id = EXCLUDED.transaction_id, position = EXCLUDED.position, event_id = EXCLUDED.event_id,
       stream_sequence = EXCLUDED.stream_sequence, epoch = c.epoch + 1, updated_at = now(),
       stopped_code = NULL, stopped_event_id = NULL, stopped_position = NULL, stopped_reason = NULL,
       stopped_since = NULL
RETURNING epoch`

// Resume sets stream's checkpoint to cp (its Epoch is ignored) in a new
// epoch, and clears its stop record; it returns the new epoch. A running
// relay takes it up on its next look at the record.
func (s *Store) Resume(ctx context.Context, stream string, cp app.BrokerCheckpoint) (epoch int64, err error) {
	defer postgres.MarkUnavailable(&err)
	err = s.pool.QueryRow(ctx, resumeSQL, stream, cp.Cursor.TransactionID, cp.Cursor.Position,
		eventID(cp.EventID), int64(cp.Sequence)).Scan(&epoch)
	if err != nil {
		return 0, fmt.Errorf("resume stream %s: %w", stream, err)
	}
	return epoch, nil
}

// stopSQL records why the relay is stopped. The time it first stopped so
// is kept while the reason stays the same.
const stopSQL = `
INSERT INTO broker_checkpoints AS c (stream, stopped_code, stopped_event_id, stopped_position, stopped_reason, stopped_since)
VALUES ($1, $2, $3, $4, $5, now())
    ON CONFLICT (stream) DO UPDATE
   SET stopped_since = CASE WHEN c.stopped_code IS NOT DISTINCT FROM EXCLUDED.stopped_code
                             AND c.stopped_event_id IS NOT DISTINCT FROM EXCLUDED.stopped_event_id
                            THEN c.stopped_since ELSE now() END,
       stopped_code = EXCLUDED.stopped_code, stopped_event_id = EXCLUDED.stopped_event_id,
       stopped_position = EXCLUDED.stopped_position, stopped_reason = EXCLUDED.stopped_reason`

// Stop records why the relay of stream publishes nothing now. Its Since
// is the database's clock, kept while the code and event stay the same.
func (s *Store) Stop(ctx context.Context, stream string, st app.ProjectionStall) (err error) {
	defer postgres.MarkUnavailable(&err)
	var at *int64
	if st.EventID != uuid.Nil {
		at = &st.Position
	}
	if _, err := s.pool.Exec(ctx, stopSQL, stream, st.Code, eventID(st.EventID), at, st.Reason); err != nil {
		return fmt.Errorf("record why the relay of stream %s stopped: %w", stream, err)
	}
	return nil
}

// clearSQL forgets the stop record once the relay publishes again.
const clearSQL = `
UPDATE broker_checkpoints
   SET stopped_code = NULL, stopped_event_id = NULL, stopped_position = NULL, stopped_reason = NULL, stopped_since = NULL
 WHERE stream = $1 AND stopped_code IS NOT NULL`

// Clear forgets why the relay of stream was stopped.
func (s *Store) Clear(ctx context.Context, stream string) (err error) {
	defer postgres.MarkUnavailable(&err)
	if _, err := s.pool.Exec(ctx, clearSQL, stream); err != nil {
		return fmt.Errorf("clear the stop record of stream %s: %w", stream, err)
	}
	return nil
}

// eventID is id as a parameter: NULL for uuid.Nil.
func eventID(id uuid.UUID) *[16]byte {
	if id == uuid.Nil {
		return nil
	}
	b := postgres.UUID(id)
	return &b
}
