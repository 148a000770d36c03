package eventstore

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/orderapi/orderapi/internal/app"
	"github.com/orderapi/orderapi/internal/domain/order"
)

// errPastBound: the state a fold was asked to start from is already past
// its bound.
var errPastBound = errors.New("the starting state is past the bound")

// foldStream applies the stream's events after from.Version, up to the
// bound, to from, in one query. The query reads from.Version's own event
// too, which must lie within the bound: when it does not, the starting
// state is past the bound and the fold refuses, rather than answer a state
// later than the one asked for.
func (s *Store) foldStream(ctx context.Context, id uuid.UUID, from order.Order, b bound) (order.Order, error) {
	f := newFold(from, time.Time{}, 0)
	if err := s.foldInto(ctx, id, &f, b); err != nil {
		return order.Order{}, err
	}
	return f.o, nil
}

// foldInto is foldStream on a fold in progress.
func (s *Store) foldInto(ctx context.Context, id uuid.UUID, f *fold, b bound) error {
	from := f.o.Version
	sql, args := streamSQL(id, from, b)
	rows, err := s.pool.Query(ctx, sql, args...)
	if err != nil {
		return fmt.Errorf("read stream after version %d: %w", from, err)
	}
	var (
		version, schemaVersion int
		eventType              string
		data                   []byte
		occurredAt             time.Time
	)
	_, err = pgx.ForEachRow(rows, []any{&version, &eventType, &schemaVersion, &data, envelopeTime{&occurredAt}}, func() error {
		return f.step(s, id, version, eventType, schemaVersion, data, occurredAt)
	})
	if err != nil {
		return fmt.Errorf("read stream after version %d: %w", from, err)
	}
	if !f.within {
		return fmt.Errorf("read stream after version %d: %w", from, errPastBound)
	}
	return nil
}

// keptPerFold bounds the states one fold keeps for the snapshot writer:
// the newest, which the fold's own kind of read needs first. A longer
// fold's older boundaries are kept by the next fold that passes them.
const keptPerFold = 32

// fold is a fold in progress from a starting state. The first event it is
// given is the starting state's own, when it has one: it proves that the
// stream reaches that version, and is skipped.
type fold struct {
	o order.Order
	// within: the starting state's own event has been seen. There is no
	// event 0: the empty state is within every bound.
	within bool
	// until is the latest time any event up to o.Version occurred: the
	// last one's, unless clocks disagreed.
	until time.Time
	// every, when positive, has the fold keep its state at each multiple
	// of every it passes, for the snapshot writer.
	every int
	kept  []snapshotState
	// folded counts the events applied.
	folded int
}

// snapshotState is a state worth a snapshot, with its stream's until.
type snapshotState struct {
	state order.Order
	until time.Time
}

func newFold(from order.Order, until time.Time, every int) fold {
	return fold{o: from, within: from.Version == 0, until: until, every: every}
}

// errNoAnchor: the first event read is not the starting state's own.
var errNoAnchor = errors.New("the starting state's own event is not the first read")

// step takes the next event read.
func (f *fold) step(s *Store, id uuid.UUID, version int, eventType string, schemaVersion int, data []byte, occurredAt time.Time) error {
	if !f.within {
		if version != f.o.Version {
			return fmt.Errorf("stream has version %d where %d was expected: %w", version, f.o.Version, errNoAnchor)
		}
		f.within = true
		return nil
	}
	if _, err := s.ApplyStored(id, &f.o, version, eventType, schemaVersion, data, occurredAt); err != nil {
		return err
	}
	f.folded++
	if occurredAt.After(f.until) {
		f.until = occurredAt.UTC()
	}
	if f.every > 0 && f.o.Version%f.every == 0 {
		if len(f.kept) == keptPerFold {
			f.kept = append(f.kept[:0], f.kept[1:]...)
		}
		// The state is shared, not copied: an Order changes only through
		// Apply, which never writes into a slice another copy holds.
		f.kept = append(f.kept, snapshotState{state: f.o, until: f.until})
	}
	return nil
}

// ApplyStored folds one stored event, the next of o's stream (order id's),
// into o, and returns it decoded. Every replay goes through it: Load, and
// the projections' verification and rebuild, so that they fold exactly as
// the commands do.
func (s *Store) ApplyStored(id uuid.UUID, o *order.Order, version int, eventType string, schemaVersion int, data []byte, occurredAt time.Time) (order.Event, error) {
	// Apply counts versions; a stream that skips one would silently
	// give the state the wrong version.
	if version != o.Version+1 {
		return nil, fmt.Errorf("stream has version %d after %d", version, o.Version)
	}
	e, err := s.codec.Decode(eventType, schemaVersion, data)
	if err == nil && !order.InTimeBounds(occurredAt) {
		err = errTimeOutOfBounds
	}
	if err != nil {
		s.unreadable.Add(1)
		return nil, &app.UnreadableEventError{OrderID: id, Version: version, Type: eventType, SchemaVersion: schemaVersion, Err: err}
	}
	o.Apply(e, occurredAt.UTC())
	return e, nil
}
