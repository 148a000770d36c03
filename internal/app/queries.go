package app

import (
	"context"
	"fmt"

	"github.com/google/uuid"
	"github.com/orderapi/orderapi/internal/domain/order"
)

// Page size bounds for customer order lists.
const (
	DefaultPageSize = 20
	MaxPageSize     = 100
)

// GetOrder reads an order from the order_details projection, which the
// append's transaction keeps current. An order p may not see is not
// found.
func (s *Service) GetOrder(ctx context.Context, p Principal, id uuid.UUID) (order.Order, error) {
	o, _, err := s.ReadOrder(ctx, p, OrderQuery{ID: id})
	return o, err
}

// OrderQuery asks for an order as it is now or, with At, as it was then.
type OrderQuery struct {
	ID uuid.UUID
	// At, when set, names a past state, rebuilt from the events (see
	// OrderAt).
	At *PointInTime
	// MinPosition, when positive, is the global position of an event (the
	// X-Event-Position of a command) that the answer must include.
	MinPosition int64
}

// ReadOrder answers q as GetOrder or OrderAt do, from a database that has
// the event at q.MinPosition, and says which one answered: with its
// error too, when the error is that database's answer (not found, a
// version the order has not reached there).
func (s *Service) ReadOrder(ctx context.Context, p Principal, q OrderQuery) (order.Order, ReadSource, error) {
	if at := q.At; at != nil && !at.byTime && at.version < 1 {
		return order.Order{}, ReadSource{}, order.Invalid("version", order.FieldOutOfRange, "must be 1 or more")
	}
	if err := mustBeOrderID(q.ID); err != nil {
		return order.Order{}, ReadSource{}, err
	}
	rm, err := s.chooseReads(ctx, q.MinPosition)
	if err != nil {
		return order.Order{}, ReadSource{}, fmt.Errorf("order %s: %w", q.ID, err)
	}
	var o order.Order
	if q.At != nil {
		o, err = s.orderAt(ctx, rm, p, q.ID, *q.At)
	} else {
		o, err = s.getOrder(ctx, rm, p, q.ID)
	}
	return o, rm.Source(), err
}

func (s *Service) getOrder(ctx context.Context, rm ReadModel, p Principal, id uuid.UUID) (order.Order, error) {
	o, err := rm.GetOrder(ctx, id)
	if err != nil {
		return order.Order{}, fmt.Errorf("get order %s: %w", id, err)
	}
	if !p.sees(&o) {
		return order.Order{}, hidden(id)
	}
	return o, nil
}

// mustSee checks, before an order's past or history is read from rm, that
// p may see the order; one it may not is not found. Staff and services
// see every order without a query.
func (s *Service) mustSee(ctx context.Context, rm ReadModel, p Principal, id uuid.UUID) error {
	if p.Roles.Any(RolesOf(RoleStaff, RoleService)) {
		return nil
	}
	return mustOwn(ctx, rm, id, p.sees)
}

// mustChange checks, before an order is loaded for a command, that p may
// change it; one it may not is not found. It reads the primary: a standby
// may not have the order yet that the client has just created.
func (s *Service) mustChange(ctx context.Context, p Principal, id uuid.UUID) error {
	return mustOwn(ctx, s.reads, id, p.changes)
}

// mustOwn reads the order from rm's order_details projection (one
// primary-key read) and answers one that may not allow as a missing one.
func mustOwn(ctx context.Context, rm ReadModel, id uuid.UUID, may func(*order.Order) bool) error {
	o, err := rm.GetOrder(ctx, id)
	if err != nil {
		return fmt.Errorf("order %s: %w", id, err)
	}
	if !may(&o) {
		return hidden(id)
	}
	return nil
}

// ListCustomerOrders pages a customer's orders, newest first. A zero Limit
// is DefaultPageSize; larger than MaxPageSize is an invalid input. A
// customer lists its own orders only: another customer's list is
// ErrForbidden, whatever that customer has, so nothing is learnt of it.
func (s *Service) ListCustomerOrders(ctx context.Context, p Principal, q ListQuery) (OrderPage, error) {
	if !p.listsOf(q.CustomerID) {
		return OrderPage{}, ErrForbidden
	}
	if q.Limit == 0 {
		q.Limit = DefaultPageSize
	}
	if q.Limit < 1 || q.Limit > MaxPageSize {
		return OrderPage{}, order.Invalid("limit", order.FieldOutOfRange, fmt.Sprintf("must be between 1 and %d", MaxPageSize))
	}
	rm, err := s.chooseReads(ctx, q.MinPosition)
	var page OrderPage
	if err == nil {
		page, err = rm.ListCustomerOrders(ctx, q)
	}
	if err != nil {
		return OrderPage{}, fmt.Errorf("list orders of customer %s: %w", q.CustomerID, err)
	}
	page.Source = rm.Source()
	return page, nil
}

// OrderCursorExists reports whether c names an order of the customer, as
// every cursor of its list does. It is how a cursor that carries no proof
// of its origin (one issued before cursors were signed) is judged: on the
// primary, which has every order a list has shown.
func (s *Service) OrderCursorExists(ctx context.Context, customerID uuid.UUID, c Cursor) (bool, error) {
	ok, err := s.reads.CustomerOrderAt(ctx, customerID, c)
	if err != nil {
		return false, fmt.Errorf("cursor of customer %s: %w", customerID, err)
	}
	return ok, nil
}

// OrderEvents returns an order's history from the event store; an order
// p may not see is not found.
func (s *Service) OrderEvents(ctx context.Context, p Principal, q EventQuery) ([]RecordedEvent, error) {
	if err := mustBeOrderID(q.OrderID); err != nil {
		return nil, err
	}
	rm, err := s.chooseReads(ctx, q.MinPosition)
	if err == nil {
		err = s.mustSee(ctx, rm, p, q.OrderID)
	}
	if err != nil {
		return nil, err
	}
	events, err := rm.OrderEvents(ctx, q)
	if err != nil {
		return nil, fmt.Errorf("events of order %s: %w", q.OrderID, err)
	}
	return events, nil
}
