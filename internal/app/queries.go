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
	o, err := s.reads.GetOrder(ctx, id)
	if err != nil {
		return order.Order{}, fmt.Errorf("get order %s: %w", id, err)
	}
	if !p.sees(&o) {
		return order.Order{}, hidden(id)
	}
	return o, nil
}

// mustSee checks, before an order's past or history is read, that p may
// see the order; one it may not is not found. Staff and services see
// every order without a query.
func (s *Service) mustSee(ctx context.Context, p Principal, id uuid.UUID) error {
	if p.Roles.Any(RolesOf(RoleStaff, RoleService)) {
		return nil
	}
	return s.mustOwn(ctx, id, p.sees)
}

// mustChange checks, before an order is loaded for a command, that p may
// change it; one it may not is not found.
func (s *Service) mustChange(ctx context.Context, p Principal, id uuid.UUID) error {
	return s.mustOwn(ctx, id, p.changes)
}

// mustOwn reads the order from the order_details projection (one
// primary-key read) and answers one that may not allow as a missing one.
func (s *Service) mustOwn(ctx context.Context, id uuid.UUID, may func(*order.Order) bool) error {
	o, err := s.reads.GetOrder(ctx, id)
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
	page, err := s.reads.ListCustomerOrders(ctx, q)
	if err != nil {
		return OrderPage{}, fmt.Errorf("list orders of customer %s: %w", q.CustomerID, err)
	}
	return page, nil
}

// OrderCursorExists reports whether c names an order of the customer, as
// every cursor of its list does. It is how a cursor that carries no proof
// of its origin (one issued before cursors were signed) is judged.
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
	if err := s.mustSee(ctx, p, q.OrderID); err != nil {
		return nil, err
	}
	events, err := s.reads.OrderEvents(ctx, q)
	if err != nil {
		return nil, fmt.Errorf("events of order %s: %w", q.OrderID, err)
	}
	return events, nil
}
