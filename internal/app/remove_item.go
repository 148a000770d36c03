package app

import (
	"context"

	"github.com/google/uuid"
	"github.com/orderapi/orderapi/internal/domain/order"
)

// RemoveItem removes a product line from a draft order.
func (s *Service) RemoveItem(ctx context.Context, t Target, productID uuid.UUID) (Result, error) {
	return s.execute(ctx, "remove_item", t, func(o *order.Order) ([]order.Event, error) {
		return o.RemoveItem(productID)
	})
}
