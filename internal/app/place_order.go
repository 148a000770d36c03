package app

import (
	"context"

	"github.com/orderapi/orderapi/internal/domain/order"
)

// PlaceOrder places a draft order for shipping to addr.
func (s *Service) PlaceOrder(ctx context.Context, t Target, addr order.Address) (Result, error) {
	return s.execute(ctx, "place_order", t, func(o *order.Order) ([]order.Event, error) {
		return o.Place(addr)
	})
}
