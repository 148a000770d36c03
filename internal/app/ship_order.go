package app

import (
	"context"

	"github.com/orderapi/orderapi/internal/domain/order"
)

// ShipOrder records that a placed order was handed to a carrier.
func (s *Service) ShipOrder(ctx context.Context, t Target, trackingNumber, carrier string) (Result, error) {
	return s.execute(ctx, "ship_order", t, func(o *order.Order) ([]order.Event, error) {
		return o.Ship(trackingNumber, carrier)
	})
}
