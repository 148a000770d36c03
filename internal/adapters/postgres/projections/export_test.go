package projections

import (
	"context"

	"github.com/orderapi/orderapi/internal/adapters/postgres/eventstore"
	"github.com/rs/zerolog"
)

// VerifyInRanges is Verify comparing about chunk orders per transaction,
// calling after, if set, between two.
func VerifyInRanges(ctx context.Context, st *eventstore.Store, limit, chunk int, after func()) (VerifyReport, error) {
	return verifyIn(ctx, st, limit, chunk, after)
}

// RebuildFilling is Rebuild calling filling once the fill's snapshot is
// taken, before it replays anything.
func RebuildFilling(ctx context.Context, st *eventstore.Store, names []string, filling func()) (RebuildReport, error) {
	s := newStore(st)
	s.filling = filling
	return s.rebuild(ctx, names, zerolog.Nop())
}
