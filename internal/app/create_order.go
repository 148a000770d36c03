package app

import (
	"context"
	"errors"
	"fmt"

	"github.com/google/uuid"
	"github.com/orderapi/orderapi/internal/domain/order"
)

// NewOrder is the input of CreateOrder. A nil ID lets the service choose
// one; a nil CustomerID is the principal's own, when it is a customer; an
// empty Currency takes the configured default. Idempotency, if it has a
// key, makes a retry answer as the first request did.
type NewOrder struct {
	ID          uuid.UUID
	CustomerID  uuid.UUID
	Currency    order.Currency
	Idempotency Idempotency
}

// CreateOrder starts a new order's stream. A client-chosen ID that exists
// already is ErrExists to whoever may change that order (its owner,
// staff), the answer a retried create gets; to another customer it is
// not found, as every request of theirs on that order is. With an
// idempotency key claimed before, it creates nothing and answers with the
// order the claiming request created, as it was then; two requests with
// one key racing each other create one order, and the loser answers with
// it too.
//
// A customer creates orders for itself only: another customer id is
// ErrForbidden. Staff create orders for any customer.
func (s *Service) CreateOrder(ctx context.Context, in NewOrder, meta Metadata) (Result, error) {
	res, err := s.createOrder(ctx, in, meta)
	s.observer.CommandDone("create_order", outcomeOf(res, err), 0)
	return res, err
}

func (s *Service) createOrder(ctx context.Context, in NewOrder, meta Metadata) (Result, error) {
	p := meta.Principal
	if in.CustomerID == uuid.Nil && p.Roles.Has(RoleCustomer) {
		in.CustomerID = p.CustomerID
	}
	if !p.Roles.Has(RoleStaff) && !(p.Roles.Has(RoleCustomer) && in.CustomerID == p.CustomerID) {
		return Result{}, ErrForbidden
	}
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
	if res, found, err := s.replay(ctx, p, in.Idempotency); found || err != nil {
		return res, err
	}
	res, err := s.commit(ctx, order.Order{ID: id}, events, meta, in.Idempotency)
	if res, handled, err := s.replayLoser(ctx, p, in.Idempotency, err); handled {
		return res, err
	}
	if errors.Is(err, ErrAppendConflict) {
		return Result{}, s.taken(ctx, p, id)
	}
	return res, err
}

// taken is what p is told of a create whose id an order has already:
// ErrExists if p may change that order, else what it is told of any
// other order it may not see. The id is taken either way, but only its
// owner's retry needs telling so; nor does order_exists tell another
// customer's client that its create went through.
func (s *Service) taken(ctx context.Context, p Principal, id uuid.UUID) error {
	if !p.Roles.Has(RoleStaff) {
		if err := s.mustChange(ctx, p, id); err != nil {
			return err
		}
	}
	return ErrExists
}
