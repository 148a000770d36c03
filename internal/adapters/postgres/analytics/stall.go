package analytics

import (
	"context"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/orderapi/orderapi/internal/adapters/postgres"
	"github.com/orderapi/orderapi/internal/app"
)

// analyticsStallSQL records the event the consumer stopped before. The
// time it first did so is kept while it stays stopped on the same event.
const analyticsStallSQL = `
UPDATE projection_checkpoints
   SET stalled_since = CASE WHEN stalled_event_id = $2 THEN stalled_since ELSE now() END,
       stalled_event_id = $2, stalled_position = $3, stalled_reason = $4
 WHERE name = $1`

// analyticsClearStallSQL forgets the stall once the consumer got past it.
const analyticsClearStallSQL = `
UPDATE projection_checkpoints
   SET stalled_event_id = NULL, stalled_position = NULL, stalled_reason = NULL, stalled_since = NULL
 WHERE name = $1 AND stalled_event_id IS NOT NULL`

// stallState is what a consumer knows of its projection's stall record.
type stallState struct {
	a *Projector
	// recorded: a stall may be recorded, so the next batch that counts
	// without one clears it.
	recorded bool
	// at is the event this consumer last stopped before and reported.
	at int64
}

// stall records that the consumer stops before an event it cannot
// decode, and says so loudly, once per event: the projection cannot move
// on until a build that reads it runs the consumer. Skipping it would
// count the projection wrong for good.
func (st *stallState) stall(ctx context.Context, conn *pgx.Conn, u *app.UnreadableEventError) error {
	ctx, cancel := context.WithTimeout(ctx, analyticsStepTimeout)
	defer cancel()
	if _, err := conn.Exec(ctx, analyticsStallSQL, analyticsName, postgres.UUID(u.EventID), u.Position, u.Err.Error()); err != nil {
		return fmt.Errorf("record the analytics stall at %s: %w", u.Name(), err)
	}
	st.recorded = true
	if st.at != u.Position {
		st.at = u.Position
		st.a.log.Error().Err(u).Str("event_id", u.EventID.String()).Int64("position", u.Position).
			Msg("analytics stopped: it cannot decode this event; run a build that can (orderapi check names every such event)")
	}
	return nil
}

// clear forgets a recorded stall after a batch counted without one.
func (st *stallState) clear(ctx context.Context, conn *pgx.Conn) error {
	if !st.recorded {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, analyticsStepTimeout)
	defer cancel()
	if _, err := conn.Exec(ctx, analyticsClearStallSQL, analyticsName); err != nil {
		return fmt.Errorf("clear the analytics stall: %w", err)
	}
	st.recorded, st.at = false, 0
	return nil
}

// analyticsStalledSQL reads the projection's stall record alone: a
// primary-key lookup, cheap enough for every readiness probe.
const analyticsStalledSQL = `
SELECT stalled_event_id, stalled_position, stalled_reason, stalled_since
  FROM projection_checkpoints WHERE name = $1`

// Stalled returns the event the analytics projection is stopped before,
// nil when it is not stopped.
func (a *Projector) Stalled(ctx context.Context) (_ *app.ProjectionStall, err error) {
	defer postgres.MarkUnavailable(&err)
	var (
		id     *uuid.UUID
		at     *int64
		reason *string
		since  *time.Time
	)
	if err := a.pool.QueryRow(ctx, analyticsStalledSQL, analyticsName).Scan(&id, &at, &reason, &since); err != nil {
		return nil, fmt.Errorf("read the analytics stall: %w", err)
	}
	return stallOf(id, at, reason, since), nil
}

// stallOf is the stall record's columns as read, nil when none is set.
func stallOf(id *uuid.UUID, at *int64, reason *string, since *time.Time) *app.ProjectionStall {
	if id == nil || at == nil || reason == nil || since == nil {
		return nil
	}
	return &app.ProjectionStall{Code: app.StallEventUnreadable, EventID: *id, Position: *at, Reason: *reason, Since: since.UTC()}
}
