package app

import (
	"context"
	"time"

	"github.com/orderapi/orderapi/internal/domain/order"
)

// ReadModels hands each query the read model it reads: the primary
// database's, or a hot standby's that streams from it. Commands, the
// ownership check a command makes, idempotency replays and cursor checks
// never ask it: they read the primary's read model, the Service's own.
type ReadModels interface {
	// Choose returns a read model whose answers include the event at the
	// global position minPosition, and so everything the primary had
	// committed when that event committed; with minPosition 0, any in
	// service, perhaps one that lags. A position no event has, nor will
	// (beyond every event, or a rolled-back write's), is
	// ErrUnknownPosition; one a write still running may commit, not
	// committed within the ReadModels' wait, is ErrPositionNotReached.
	Choose(ctx context.Context, minPosition int64) (SourcedReadModel, error)
}

// SourcedReadModel is a read model that tells which database answered.
type SourcedReadModel interface {
	ReadModel
	// Source is where the last read made through it was answered.
	Source() ReadSource
}

// ReadSource is where a query was answered. The zero ReadSource is the
// only database of a service without standbys.
type ReadSource struct {
	// Name is "primary" or the standby's name; empty without standbys.
	Name string
	// Standby is whether a standby answered; Lag is how far it was behind
	// the primary when last measured.
	Standby bool
	Lag     time.Duration
}

// onlyPrimary answers every query from the primary's read model: the
// Service's ReadModels when it is given none. A pointer, so that handing
// it out allocates nothing.
type onlyPrimary struct{ ReadModel }

func (p *onlyPrimary) Choose(context.Context, int64) (SourcedReadModel, error) { return p, nil }

func (*onlyPrimary) Source() ReadSource { return ReadSource{} }

// chooseReads returns the read model for a query that must include the
// event at minPosition (0: none), refusing a negative position.
func (s *Service) chooseReads(ctx context.Context, minPosition int64) (SourcedReadModel, error) {
	if minPosition < 0 {
		return nil, order.Invalid("min_position", order.FieldOutOfRange, "must be a positive event position")
	}
	return s.readModels.Choose(ctx, minPosition)
}
