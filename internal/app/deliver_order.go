package app

import (
	"context"
	"time"

	"github.com/orderapi/orderapi/internal/domain/order"
)

// DeliverOrder records the delivery of a shipped order. A zero deliveredAt
// means now; another may not lie in the future beyond order.MaxClockSkew.
func (s *Service) DeliverOrder(ctx context.Context, t Target, deliveredAt time.Time, signature string) (Result, error) {
	now := s.now()
	if deliveredAt.IsZero() {
		deliveredAt = now
	}
	// Stored with microsecond precision, like every time in the store.
	deliveredAt = deliveredAt.UTC().Truncate(time.Microsecond)
	return s.execute(ctx, "deliver_order", t, func(o *order.Order) ([]order.Event, error) {
		return o.Deliver(deliveredAt, now, signature)
	})
}
