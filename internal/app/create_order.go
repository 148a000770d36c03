package app

import (
	"context"
	"errors"
	"fmt"

	"github.com/google/uuid"
	"github.com/orderapi/orderapi/internal/domain/order"
)

// NewOrder is the input of CreateOrder. A nil ID lets the service choose
// one; an empty Currency takes the configured default.
type NewOrder struct {
	ID         uuid.UUID
	CustomerID uuid.UUID
	Currency   order.Currency
}

// CreateOrder starts a new order's stream. A client-chosen ID that exists
// already is ErrExists.
func (s *Service) CreateOrder(ctx context.Context, in NewOrder, meta Metadata) (Result, error) {
	id := in.ID
	if id == uuid.Nil {
		var err error
		if id, err = uuid.NewV7(); err != nil {
			return Result{}, fmt.Errorf("new order id: %w", err)
		}
	}
	currency := in.Currency
	if currency == "" {
		currency = s.defaultCurrency
	}
	events, err := order.Create(id, in.CustomerID, currency)
	if err != nil {
		return Result{}, err
	}
	res, err := s.commit(ctx, order.Order{ID: id}, events, meta)
	if errors.Is(err, ErrVersionConflict) {
		return Result{}, ErrExists
	}
	return res, err
}
