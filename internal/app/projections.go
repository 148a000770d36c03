package app

import (
	"context"
	"fmt"
	"time"

	"github.com/google/uuid"
)

// The projections, by the names GET /v1/projections reports.
const (
	ProjectionOrderDetails   = "order_details"
	ProjectionCustomerOrders = "customer_orders"
	ProjectionAnalytics      = "analytics"
)

// ProjectionStatus is how far one projection has got in the global feed.
type ProjectionStatus struct {
	Name string
	// Inline projections are written in the append's own transaction:
	// always current, never lagging.
	Inline bool
	// Position is the last event the projection reflects, in feed order;
	// zero before the first.
	Position FeedCursor
	// LagEvents counts the committed events after Position.
	LagEvents int64
	// Lag is the age of the oldest of those events; zero when none.
	Lag time.Duration
	// UpdatedAt is when an asynchronous projection last moved its
	// checkpoint; zero for an inline one.
	UpdatedAt time.Time
	// Stalled is set while an asynchronous projection is stopped: before
	// an event it cannot decode or, for the broker relay, for a reason
	// its Code names.
	Stalled *ProjectionStall
}

// StallEventUnreadable is the code of a projection stopped before an
// event this build cannot decode; see ErrEventUnreadable.
const StallEventUnreadable = "event_unreadable"

// ProjectionStall is why an asynchronous projection is stopped: before an
// event it cannot decode (Code StallEventUnreadable, EventID and Position
// set), or, for the broker relay, before anything it could publish
// (EventID zero), for the reason Code names.
type ProjectionStall struct {
	Code     string
	EventID  uuid.UUID
	Position int64
	Reason   string
	Since    time.Time
}

// Describe says, for operators, that the projection is stopped, where,
// since when and why.
func (s ProjectionStall) Describe(projection string) string {
	if s.EventID == uuid.Nil {
		return fmt.Sprintf("%s is stopped (%s) since %s: %s", projection, s.Code, s.Since.Format(time.RFC3339), s.Reason)
	}
	return fmt.Sprintf("%s is stopped before event %s (position %d), which this build cannot decode, since %s: %s",
		projection, s.EventID, s.Position, s.Since.Format(time.RFC3339), s.Reason)
}

// OpenTransaction is a transaction still running on the database server.
// While it runs, the global feed stops below it (see FeedCursor), and so
// do the asynchronous projections.
type OpenTransaction struct {
	// PID is its server process, as pg_stat_activity shows it.
	PID     int32
	Started time.Time
	Age     time.Duration
}

// PreparedTransaction is a transaction prepared for two-phase commit
// (PREPARE TRANSACTION) and not yet committed or rolled back. It has no
// session: it holds the feed back until someone ends it by its GID
// (COMMIT PREPARED or ROLLBACK PREPARED), whichever database it is in.
type PreparedTransaction struct {
	GID      string
	Database string
	Prepared time.Time
	Age      time.Duration
}

// ProjectionsReport is the progress of every projection.
type ProjectionsReport struct {
	Projections []ProjectionStatus
	// OldestOpenTransaction is the oldest transaction that holds the feed's
	// watermark back; nil when none does.
	OldestOpenTransaction *OpenTransaction
	// OldestPreparedTransaction is the oldest prepared transaction, which
	// holds the feed's watermark back as a running one does; nil when
	// none is pending.
	OldestPreparedTransaction *PreparedTransaction
	// AnalyticsLockHeld reports whether this process runs the analytics
	// consumer: exactly one replica does at a time.
	AnalyticsLockHeld bool
}

// Projections reports the progress of every projection, for operators.
func (s *Service) Projections(ctx context.Context) (ProjectionsReport, error) {
	if s.analytics == nil {
		return ProjectionsReport{}, errNoAnalytics
	}
	r, err := s.analytics.Projections(ctx)
	if err != nil {
		return ProjectionsReport{}, fmt.Errorf("projection status: %w", err)
	}
	return r, nil
}
