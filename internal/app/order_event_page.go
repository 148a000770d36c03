package app

import (
	"context"
	"fmt"

	"github.com/orderapi/orderapi/internal/domain/order"
)

// Page sizes of one order's history.
const (
	DefaultEventPage = 100
	MaxEventPage     = 1000
)

// EventPage is a page of one order's history, oldest first. Next is the
// AfterVersion of the following page; nil when this page reached the end
// of the stream.
type EventPage struct {
	Events []RecordedEvent
	Next   *int
	// Source is the database that answered; set with an error too, when
	// the error is its answer (the order not found there).
	Source ReadSource
}

// OrderEventPage returns the order's events after q.AfterVersion, at most
// q.Limit of them (DefaultEventPage when zero). An unknown order, or one
// p may not see, is order.ErrNotFound; a page past the end of an existing
// stream is empty.
func (s *Service) OrderEventPage(ctx context.Context, p Principal, q EventQuery) (EventPage, error) {
	if q.Limit == 0 {
		q.Limit = DefaultEventPage
	}
	var errs []error
	if q.AfterVersion < 0 {
		errs = append(errs, order.Invalid("after_version", order.FieldOutOfRange, "must be 0 or more"))
	}
	if q.Limit < 1 || q.Limit > MaxEventPage {
		errs = append(errs, order.Invalid("limit", order.FieldOutOfRange, fmt.Sprintf("must be between 1 and %d", MaxEventPage)))
	}
	if err := order.Merge(errs...); err != nil {
		return EventPage{}, err
	}
	if err := mustBeOrderID(q.OrderID); err != nil {
		return EventPage{}, err
	}
	rm, err := s.chooseReads(ctx, q.MinPosition)
	if err != nil {
		return EventPage{}, err
	}
	if err := s.mustSee(ctx, rm, p, q.OrderID); err != nil {
		return EventPage{Source: rm.Source()}, err
	}
	// One event more than the page tells, in the same query, whether
	// another page follows.
	ask := q
	ask.Limit++
	events, err := rm.OrderEvents(ctx, ask)
	if err != nil {
		return EventPage{Source: rm.Source()}, fmt.Errorf("events of order %s after version %d: %w", q.OrderID, q.AfterVersion, err)
	}
	page := EventPage{Events: events, Source: rm.Source()}
	if len(events) > q.Limit {
		next := events[q.Limit-1].Version
		page.Events, page.Next = events[:q.Limit], &next
	}
	return page, nil
}
