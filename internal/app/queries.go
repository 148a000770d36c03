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
// append's transaction keeps current.
func (s *Service) GetOrder(ctx context.Context, id uuid.UUID) (order.Order, error) {
	o, err := s.reads.GetOrder(ctx, id)
	if err != nil {
		return order.Order{}, fmt.Errorf("get order %s: %w", id, err)
	}
	return o, nil
}

// ListCustomerOrders pages a customer's orders, newest first. A zero Limit
// is DefaultPageSize; larger than MaxPageSize is an invalid input.
func (s *Service) ListCustomerOrders(ctx context.Context, q ListQuery) (OrderPage, error) {
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

// OrderEvents returns an order's history from the event store.
func (s *Service) OrderEvents(ctx context.Context, q EventQuery) ([]RecordedEvent, error) {
	events, err := s.reads.OrderEvents(ctx, q)
	if err != nil {
		return nil, fmt.Errorf("events of order %s: %w", q.OrderID, err)
	}
	return events, nil
}
