package app

import (
	"context"

	"github.com/orderapi/orderapi/internal/domain/order"
)

// CancelOrder cancels a draft or placed order. Who cancelled it is the
// principal, by its subject: cancelledBy may be left empty or repeat that
// subject, and naming anyone else is refused, since the event would
// record it as fact.
func (s *Service) CancelOrder(ctx context.Context, t Target, reason, cancelledBy string) (Result, error) {
	subject := t.Metadata.Principal.Subject
	return s.execute(ctx, "cancel_order", t, func(o *order.Order) ([]order.Event, error) {
		if cancelledBy != "" && cancelledBy != subject {
			return nil, order.Invalid("cancelled_by", order.FieldNotCaller,
				"must be left out or be your own id ("+subject+"): a cancellation records who sent it")
		}
		return o.Cancel(reason, subject)
	})
}
