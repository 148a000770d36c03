package standby

import (
	"context"
	"time"

	"github.com/google/uuid"
	"github.com/orderapi/orderapi/internal/app"
	"github.com/orderapi/orderapi/internal/domain/order"
)

// reads is the read model handed to one query: a standby's, or the
// primary's when standby is nil. A read that fails on the standby because
// it cannot answer is made again on the primary, which answers the
// query's later reads too. A query's reads run one after another.
type reads struct {
	router  *Router
	standby *standby
}

var _ app.SourcedReadModel = (*reads)(nil)

// Source is the database that answered the last read.
func (rd *reads) Source() app.ReadSource {
	if rd.standby == nil {
		if len(rd.router.standbys) == 0 {
			return app.ReadSource{}
		}
		return app.ReadSource{Name: primaryName}
	}
	return rd.standby.source()
}

// read runs fn on the standby, and on the primary when the standby fails
// under it or was not in recovery when it answered; on the primary alone
// without a standby.
func read[T any](ctx context.Context, rd *reads, fn func(context.Context, app.ReadModel) (T, error)) (T, error) {
	if rd.standby == nil {
		return fn(ctx, rd.router.primary)
	}
	left := rd.standby.recovery.left.Load()
	v, err := fn(ctx, rd.standby.store)
	switch {
	case rd.standby.recovery.left.Load() != left:
		rd.router.promoted(rd.standby)
	case err == nil || !rd.router.failed(ctx, rd.standby, err):
		return v, err
	}
	rd.standby = nil
	rd.router.primaryReads.Add(1)
	return fn(ctx, rd.router.primary)
}

func (rd *reads) GetOrder(ctx context.Context, id uuid.UUID) (order.Order, error) {
	return read(ctx, rd, func(ctx context.Context, m app.ReadModel) (order.Order, error) { return m.GetOrder(ctx, id) })
}

func (rd *reads) ListCustomerOrders(ctx context.Context, q app.ListQuery) (app.OrderPage, error) {
	return read(ctx, rd, func(ctx context.Context, m app.ReadModel) (app.OrderPage, error) { return m.ListCustomerOrders(ctx, q) })
}

func (rd *reads) OrderEvents(ctx context.Context, q app.EventQuery) ([]app.RecordedEvent, error) {
	return read(ctx, rd, func(ctx context.Context, m app.ReadModel) ([]app.RecordedEvent, error) { return m.OrderEvents(ctx, q) })
}

func (rd *reads) EventAt(ctx context.Context, c app.FeedCursor) (bool, error) {
	return read(ctx, rd, func(ctx context.Context, m app.ReadModel) (bool, error) { return m.EventAt(ctx, c) })
}

func (rd *reads) CustomerOrderAt(ctx context.Context, customerID uuid.UUID, c app.Cursor) (bool, error) {
	return read(ctx, rd, func(ctx context.Context, m app.ReadModel) (bool, error) { return m.CustomerOrderAt(ctx, customerID, c) })
}

func (rd *reads) ReadFeed(ctx context.Context, q app.FeedQuery) ([]app.RecordedEvent, error) {
	return read(ctx, rd, func(ctx context.Context, m app.ReadModel) ([]app.RecordedEvent, error) { return m.ReadFeed(ctx, q) })
}

func (rd *reads) LoadVersion(ctx context.Context, id uuid.UUID, version int) (order.Order, error) {
	return read(ctx, rd, func(ctx context.Context, m app.ReadModel) (order.Order, error) {
		return m.LoadVersion(ctx, id, version)
	})
}

func (rd *reads) LoadAsOf(ctx context.Context, id uuid.UUID, t time.Time) (order.Order, error) {
	return read(ctx, rd, func(ctx context.Context, m app.ReadModel) (order.Order, error) { return m.LoadAsOf(ctx, id, t) })
}
