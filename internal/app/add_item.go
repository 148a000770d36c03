package app

import (
	"context"

	"github.com/orderapi/orderapi/internal/domain/order"
)

// AddItem adds a product line to a draft order.
func (s *Service) AddItem(ctx context.Context, t Target, item order.NewItem) (Result, error) {
	return s.execute(ctx, "add_item", t, func(o *order.Order) ([]order.Event, error) {
		return o.AddItem(item)
	})
}
