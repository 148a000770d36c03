package app

import (
	"time"

	"github.com/orderapi/orderapi/internal/domain/order"
)

// eventTime is when the events a command appends to o occur: now, by the
// service's clock, with the precision PostgreSQL keeps (the answer must
// equal what a later read returns, and a replay rebuilds), yet never
// before o's last event. Replicas' clocks differ by a little even when
// they share the database's, so a command right after one on another
// replica could otherwise be dated before it: updated_at before
// created_at, a default delivery before the shipment.
func (s *Service) eventTime(o *order.Order) time.Time {
	at := s.now().UTC().Truncate(time.Microsecond)
	if at.Before(o.UpdatedAt) {
		return o.UpdatedAt.UTC()
	}
	return at
}
