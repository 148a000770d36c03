package app

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/orderapi/orderapi/internal/domain/order"
	"github.com/shopspring/decimal"
)

// The analytics projection is asynchronous: a consumer in the postgres
// adapter folds the global feed into daily figures some time after the
// events commit. This file is its query side: which figures exist and how
// a client waits for its own writes to be counted.

// MaxAnalyticsDays bounds a query's span: To may be at most this many days
// after From.
const MaxAnalyticsDays = 366

// DefaultAnalyticsWait bounds how long a query with a MinPosition waits for
// the projection.
const DefaultAnalyticsWait = 5 * time.Second

// AnalyticsQuery selects daily figures.
type AnalyticsQuery struct {
	// From and To are the first and the last day, inclusive, each as
	// midnight UTC.
	From, To time.Time
	// Currency keeps only that currency; empty keeps all.
	Currency order.Currency
	// MinPosition, when positive, is the global position of an event (the
	// X-Event-Position of a command) that the figures must include: the
	// query waits, bounded, until the projection has processed it.
	MinPosition int64
}

// Validate names every field of the query that is missing or out of range.
func (q AnalyticsQuery) Validate() error {
	var errs []error
	fromOK, err := checkDay("from", q.From, `is required, e.g. "2025-01-02"`)
	errs = append(errs, err)
	toOK, err := checkDay("to", q.To, `is required, e.g. "2025-01-31"`)
	errs = append(errs, err)
	if fromOK && toOK {
		switch {
		case q.To.Before(q.From):
			errs = append(errs, order.Invalid("to", order.FieldOutOfRange, "must not be before from"))
		case q.To.Sub(q.From) > MaxAnalyticsDays*24*time.Hour:
			errs = append(errs, order.Invalid("to", order.FieldOutOfRange, fmt.Sprintf("must be at most %d days after from", MaxAnalyticsDays)))
		}
	}
	if q.MinPosition < 0 {
		errs = append(errs, order.Invalid("min_position", order.FieldOutOfRange, "must be a positive event position"))
	}
	return order.Merge(errs...)
}

// checkDay reports a missing day (the zero time), one that is not
// midnight UTC, or one outside the times orderapi handles (which would
// reach the database out of its range); ok is true when it is none.
func checkDay(field string, day time.Time, required string) (ok bool, err error) {
	switch {
	case day.IsZero():
		return false, order.Invalid(field, order.FieldRequired, required)
	case !isDay(day):
		return false, order.Invalid(field, order.FieldBadFormat, "must be a day (midnight UTC)")
	}
	err = order.CheckTime(field, day)
	return err == nil, err
}

func isDay(t time.Time) bool {
	return t.Location() == time.UTC && t.Equal(t.Truncate(24*time.Hour))
}

// DailyFigures are one UTC day's figures in one currency, each event
// counted on the day it occurred.
type DailyFigures struct {
	// Date is the day, as midnight UTC.
	Date     time.Time
	Currency order.Currency
	// The orders created, placed, shipped, delivered and cancelled that
	// day (a cancelled draft counts here too).
	OrdersCreated, OrdersPlaced, OrdersShipped, OrdersDelivered, OrdersCancelled int64
	// RevenuePlaced sums the totals of the orders placed that day;
	// RevenueCancelled the totals of placed orders cancelled that day.
	RevenuePlaced, RevenueCancelled decimal.Decimal
	// ItemsSold is the number of units in the orders placed that day.
	ItemsSold int64
}

// AnalyticsReport is the answer to an AnalyticsQuery: the days with
// activity, by date then currency, and how far the projection had got
// when they were read.
type AnalyticsReport struct {
	Days     []DailyFigures
	Progress ProjectionStatus
}

// AnalyticsStore reads the asynchronous analytics projection and the
// progress of every projection.
type AnalyticsStore interface {
	// DailyFigures returns the figures of q's days, with the projection's
	// progress read in the same snapshot.
	DailyFigures(ctx context.Context, q AnalyticsQuery) (AnalyticsReport, error)
	// AnalyticsPosition returns the feed cursor of the last event the
	// analytics projection processed.
	AnalyticsPosition(ctx context.Context) (FeedCursor, error)
	// EventCursor returns the feed cursor of the committed event at a
	// global position, and false when there is none (yet).
	EventCursor(ctx context.Context, position int64) (FeedCursor, bool, error)
	// Projections reports the progress of every projection.
	Projections(ctx context.Context) (ProjectionsReport, error)
}

// Waker sends wake-ups after events are appended; a Listener of the store.
type Waker interface {
	Subscribe() (wake <-chan struct{}, cancel func())
}

// errNoAnalytics is a wiring fault: the Service was built without an
// AnalyticsStore.
var errNoAnalytics = errors.New("app: the service has no analytics store (Config.Analytics)")

// DailyAnalytics returns the daily figures of q's days. With a
// MinPosition it first waits until the projection has processed that
// event; ErrProjectionLagging if it has not within the wait.
func (s *Service) DailyAnalytics(ctx context.Context, q AnalyticsQuery) (AnalyticsReport, error) {
	if err := q.Validate(); err != nil {
		return AnalyticsReport{}, err
	}
	if s.analytics == nil {
		return AnalyticsReport{}, errNoAnalytics
	}
	if q.MinPosition > 0 {
		if err := s.awaitAnalytics(ctx, q.MinPosition); err != nil {
			return AnalyticsReport{}, err
		}
	}
	report, err := s.analytics.DailyFigures(ctx, q)
	if err != nil {
		return AnalyticsReport{}, fmt.Errorf("daily analytics %s to %s: %w", q.From.Format(time.DateOnly), q.To.Format(time.DateOnly), err)
	}
	return report, nil
}
