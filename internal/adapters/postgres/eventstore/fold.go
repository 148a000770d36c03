package eventstore

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/orderapi/orderapi/internal/adapters/postgres"
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
	return f.Order, nil
}

// foldInto is foldStream on a fold in progress.
func (s *Store) foldInto(ctx context.Context, id uuid.UUID, f *fold, b bound) error {
	from := f.Order.Version
	sql, args := streamSQL(id, from, b)
	rows, err := s.pool.Query(ctx, sql, args...)
	if err != nil {
		return fmt.Errorf("read stream after version %d: %w", from, err)
	}
	st := StoredEvent{OrderID: id}
	_, err = pgx.ForEachRow(rows, []any{&st.Version, &st.Type, &st.SchemaVersion, &st.Data, envelopeTime{&st.OccurredAt},
		postgres.ScanUUID(&st.EventID), &st.PersonalKey}, func() error {
		return f.step(ctx, s, &st)
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
	Replay
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

// snapshotState is a state worth a snapshot, with its stream's until and
// the keys of its personal fields.
type snapshotState struct {
	state order.Order
	until time.Time
	keys  personalKeys
}

func newFold(from order.Order, until time.Time, every int) fold {
	return fold{Replay: Replay{Order: from}, within: from.Version == 0, until: until, every: every}
}

// errNoAnchor: the first event read is not the starting state's own.
var errNoAnchor = errors.New("the starting state's own event is not the first read")

// step takes the next event read.
func (f *fold) step(ctx context.Context, s *Store, st *StoredEvent) error {
	if !f.within {
		if st.Version != f.Order.Version {
			return fmt.Errorf("stream has version %d where %d was expected: %w", st.Version, f.Order.Version, errNoAnchor)
		}
		f.within = true
		return nil
	}
	if _, err := s.Apply(ctx, &f.Replay, st); err != nil {
		return err
	}
	f.folded++
	if st.OccurredAt.After(f.until) {
		f.until = st.OccurredAt.UTC()
	}
	if f.every > 0 && f.Order.Version%f.every == 0 {
		if len(f.kept) == keptPerFold {
			f.kept = append(f.kept[:0], f.kept[1:]...)
		}
		// The state is shared, not copied: an Order changes only through
		// Apply, which never writes into a slice another copy holds.
		f.kept = append(f.kept, snapshotState{state: f.Order, until: f.until, keys: f.keys})
	}
	return nil
}

// Replay is a stream being folded, as every replay folds it (Load, the
// projections' verification and rebuild): the state so far, and the keys
// that sealed its personal fields, so that a read model or a snapshot
// written from it seals each again with its own key.
type Replay struct {
	Order order.Order
	keys  personalKeys
}

// Apply folds st, the next event of r's stream, into r; see ApplyStored.
func (s *Store) Apply(ctx context.Context, r *Replay, st *StoredEvent) (order.Event, error) {
	e, err := s.ApplyStored(ctx, &r.Order, st)
	if err == nil {
		r.keys.track(e, st)
	}
	return e, err
}

// ApplyStored folds one stored event, the next of o's stream, into o, with
// its personal data opened, and returns it decoded. Every replay goes
// through it: Load, and the projections' verification and rebuild, so
// that they fold exactly as the commands do.
func (s *Store) ApplyStored(ctx context.Context, o *order.Order, st *StoredEvent) (order.Event, error) {
	if err := nextOf(o, st); err != nil {
		return nil, err
	}
	return s.applied(o, st, func() (order.Event, error) { return s.open(ctx, st) })
}

// ApplyWithheld is ApplyStored for a replay that needs no personal data
// (the analytics recount): it opens nothing, and o's personal fields stay
// empty.
func (s *Store) ApplyWithheld(o *order.Order, st *StoredEvent) (order.Event, error) {
	if err := nextOf(o, st); err != nil {
		return nil, err
	}
	return s.applied(o, st, func() (order.Event, error) { return st.Decode(s.codec) })
}

// nextOf checks that st is the next event of o's stream. Apply counts
// versions; a stream that skips one would silently give the state the
// wrong version.
func nextOf(o *order.Order, st *StoredEvent) error {
	if st.Version != o.Version+1 {
		return fmt.Errorf("stream has version %d after %d", st.Version, o.Version)
	}
	return nil
}

// applied applies the event decode gives to o, counting an unreadable one.
func (s *Store) applied(o *order.Order, st *StoredEvent, decode func() (order.Event, error)) (order.Event, error) {
	e, err := decode()
	if err != nil {
		if _, ok := errors.AsType[*app.UnreadableEventError](err); ok {
			s.unreadable.Add(1)
		}
		return nil, err
	}
	o.Apply(e, st.OccurredAt.UTC())
	return e, nil
}
