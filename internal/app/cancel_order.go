package app

import (
	"context"

	"github.com/orderapi/orderapi/internal/domain/order"
)

// CancelOrder cancels a draft or placed order.
func (s *Service) CancelOrder(ctx context.Context, t Target, reason, cancelledBy string) (Result, error) {
	return s.execute(ctx, "cancel_order", t, func(o *order.Order) ([]order.Event, error) {
		return o.Cancel(reason, cancelledBy)
	})
}
