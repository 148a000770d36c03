package postgres

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

// Load returns the order's state after its whole stream: folded from its
// snapshot and the events after it when snapshots are on and it has one,
// else from all its events. An order with no events is order.ErrNotFound.
func (s *Store) Load(ctx context.Context, id uuid.UUID) (_ order.Order, err error) {
	defer markUnavailable(&err)
	var o order.Order
	if s.snaps != nil {
		o, err = s.loadLatest(ctx, id)
	} else {
		o, err = s.replay(ctx, id, streamEnd)
	}
	if err != nil {
		return order.Order{}, fmt.Errorf("load order %s: %w", id, err)
	}
	return o, nil
}

// LoadVersion replays the order's stream up to and including version. A
// shorter stream is replayed whole: the state's Version says how far it
// got. An order with no events is order.ErrNotFound.
func (s *Store) LoadVersion(ctx context.Context, id uuid.UUID, version int) (_ order.Order, err error) {
	defer markUnavailable(&err)
	if version < 1 {
		return order.Order{}, fmt.Errorf("load order %s at version %d: a version is 1 or more", id, version)
	}
	o, err := s.replay(ctx, id, untilVersion(version))
	if err != nil {
		return order.Order{}, fmt.Errorf("load order %s at version %d: %w", id, version, err)
	}
	return o, nil
}

// LoadAsOf replays the order's stream up to the last event recorded at or
// before t. An order with no event recorded by then is order.ErrNotFound.
func (s *Store) LoadAsOf(ctx context.Context, id uuid.UUID, t time.Time) (_ order.Order, err error) {
	defer markUnavailable(&err)
	o, err := s.replay(ctx, id, untilRecorded(t))
	if err != nil {
		return order.Order{}, fmt.Errorf("load order %s as of %s: %w", id, t.Format(time.RFC3339Nano), err)
	}
	return o, nil
}

// replay folds the stream from its start up to the bound; no event within
// it is order.ErrNotFound.
func (s *Store) replay(ctx context.Context, id uuid.UUID, b bound) (order.Order, error) {
	o, err := s.foldStream(ctx, id, order.Order{}, b)
	if err != nil {
		return order.Order{}, err
	}
	if o.Version == 0 {
		return order.Order{}, order.ErrNotFound
	}
	return o, nil
}

// bound is where a replay stops: at the stream's end, after a version, or
// after the last event recorded at or before a time. Either way it is a
// last version, so the events folded are always a prefix of the stream.
type bound struct {
	kind    boundKind
	version int
	asOf    time.Time
}

type boundKind uint8

const (
	boundEnd boundKind = iota
	boundVersion
	boundRecorded
)

var streamEnd = bound{}

func untilVersion(v int) bound        { return bound{kind: boundVersion, version: v} }
func untilRecorded(t time.Time) bound { return bound{kind: boundRecorded, asOf: t} }

// streamFromSQL reads a stream's events from a version on, in version
// order; streamSQL adds the bound. The stream-version key's index serves
// each text.
const streamFromSQL = `
SELECT stream_version, event_type, schema_version, data, occurred_at
  FROM events
 WHERE stream_id = $1 AND stream_version >= $2`

// streamSQL returns the statement text and arguments that read the stream
// of id from version from to the bound. There is one text per kind of
// bound, built from constants only, so that each is planned on its own.
// A time is turned into the version of the last event recorded by then,
// within the same statement. recorded_at is when the writing transaction
// began, by the server's clock: should a stream's times ever not grow with
// its versions (a clock stepped back), the state answered is still the one
// after some event, never a mix of events on either side of the time.
func streamSQL(id uuid.UUID, from int, b bound) (string, []any) {
	const inOrder = `
 ORDER BY stream_version`
	switch b.kind {
	case boundVersion:
		return streamFromSQL + `
   AND stream_version <= $3` + inOrder, []any{id, from, b.version}
	case boundRecorded:
		return streamFromSQL + `
   AND stream_version <= (SELECT max(stream_version) FROM events WHERE stream_id = $1 AND recorded_at <= $3)` + inOrder,
			[]any{id, from, b.asOf}
	default:
		return streamFromSQL + inOrder, []any{id, from}
	}
}

// errPastBound: the state a fold was asked to start from is already past
// its bound.
var errPastBound = errors.New("the starting state is past the bound")

// foldStream applies the stream's events after from.Version, up to the
// bound, to from, in one query. Load without a snapshot starts from the
// empty state; loadLatest folds a snapshot the same way, in its own query.
// The query reads from.Version's own event too, which must lie within the
// bound: when it does not, the starting state is past the bound and the
// fold refuses, rather than answer a state later than the one asked for.
func (s *Store) foldStream(ctx context.Context, id uuid.UUID, from order.Order, b bound) (order.Order, error) {
	sql, args := streamSQL(id, from.Version, b)
	rows, err := s.pool.Query(ctx, sql, args...)
	if err != nil {
		return order.Order{}, fmt.Errorf("read stream after version %d: %w", from.Version, err)
	}
	f := newFold(from)
	var (
		version, schemaVersion int
		eventType              string
		data                   []byte
		occurredAt             time.Time
	)
	_, err = pgx.ForEachRow(rows, []any{&version, &eventType, &schemaVersion, &data, &occurredAt}, func() error {
		return f.step(s, version, eventType, schemaVersion, data, occurredAt)
	})
	if err != nil {
		return order.Order{}, fmt.Errorf("read stream after version %d: %w", from.Version, err)
	}
	if !f.within {
		return order.Order{}, fmt.Errorf("read stream after version %d: %w", from.Version, errPastBound)
	}
	return f.o, nil
}

// fold is a fold in progress from a starting state. The first event it is
// given is the starting state's own, when it has one: it proves that the
// stream reaches that version, and is skipped.
type fold struct {
	o order.Order
	// within: the starting state's own event has been seen. There is no
	// event 0: the empty state is within every bound.
	within bool
}

func newFold(from order.Order) fold { return fold{o: from, within: from.Version == 0} }

// errNoAnchor: the first event read is not the starting state's own.
var errNoAnchor = errors.New("the starting state's own event is not the first read")

// step takes the next event read.
func (f *fold) step(s *Store, version int, eventType string, schemaVersion int, data []byte, occurredAt time.Time) error {
	if !f.within {
		if version != f.o.Version {
			return fmt.Errorf("stream has version %d where %d was expected: %w", version, f.o.Version, errNoAnchor)
		}
		f.within = true
		return nil
	}
	_, err := s.applyStored(&f.o, version, eventType, schemaVersion, data, occurredAt)
	return err
}

// applyStored folds one stored event, the next of o's stream, into o, and
// returns it decoded. Every replay goes through it: Load, and the
// projections' verification and rebuild, so that they fold exactly as the
// commands do.
func (s *Store) applyStored(o *order.Order, version int, eventType string, schemaVersion int, data []byte, occurredAt time.Time) (order.Event, error) {
	// Apply counts versions; a stream that skips one would silently
	// give the state the wrong version.
	if version != o.Version+1 {
		return nil, fmt.Errorf("stream has version %d after %d", version, o.Version)
	}
	e, err := s.codec.Decode(eventType, schemaVersion, data)
	if err != nil {
		s.unreadable.Add(1)
		return nil, &app.UnreadableEventError{OrderID: o.ID, Version: version, Type: eventType, SchemaVersion: schemaVersion, Err: err}
	}
	o.Apply(e, occurredAt.UTC())
	return e, nil
}
