package projections

import (
	"context"

	"github.com/orderapi/orderapi/internal/adapters/postgres/eventstore"
)

// VerifyInRanges is Verify comparing about chunk orders per transaction,
// calling after, if set, between two.
func VerifyInRanges(ctx context.Context, st *eventstore.Store, limit, chunk int, after func()) (VerifyReport, error) {
	return verifyIn(ctx, st, limit, chunk, after)
}
