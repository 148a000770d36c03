package app

import (
	"context"
	"time"

	"github.com/orderapi/orderapi/internal/domain/order"
)

// DeliverOrder records the delivery of a shipped order. A zero deliveredAt
// means now: the time the delivery is recorded at, so never before the
// shipment. Another may not lie ahead of that time by more than
// order.MaxClockSkew.
func (s *Service) DeliverOrder(ctx context.Context, t Target, deliveredAt time.Time, signature string) (Result, error) {
	// Stored with microsecond precision, like every time in the store.
	deliveredAt = deliveredAt.UTC().Truncate(time.Microsecond)
	return s.execute(ctx, "deliver_order", t, func(o *order.Order) ([]order.Event, error) {
		now := s.eventTime(o)
		at := deliveredAt
		if at.IsZero() {
			at = now
		}
		return o.Deliver(at, now, signature)
	})
}
