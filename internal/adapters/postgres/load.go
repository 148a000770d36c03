package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/orderapi/orderapi/internal/domain/order"
)

// Load replays the order's whole stream. An order with no events is
// order.ErrNotFound.
func (s *Store) Load(ctx context.Context, id uuid.UUID) (_ order.Order, err error) {
	defer markUnavailable(&err)
	o, err := s.replay(ctx, id, streamEnd)
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
// bound, to from, in one query. Load starts from the empty state; a
// snapshot would be passed as from, with only the events after it read.
// The query reads from.Version's own event too, which must lie within the
// bound: when it does not, the starting state is past the bound and the
// fold refuses, rather than answer a state later than the one asked for.
func (s *Store) foldStream(ctx context.Context, id uuid.UUID, from order.Order, b bound) (order.Order, error) {
	sql, args := streamSQL(id, from.Version, b)
	rows, err := s.pool.Query(ctx, sql, args...)
	if err != nil {
		return order.Order{}, fmt.Errorf("read stream after version %d: %w", from.Version, err)
	}
	defer rows.Close()

	o := from
	// There is no event 0: the empty state is within every bound.
	within := from.Version == 0
	var (
		version, schemaVersion int
		eventType              string
		data                   []byte
		occurredAt             time.Time
	)
	_, err = pgx.ForEachRow(rows, []any{&version, &eventType, &schemaVersion, &data, &occurredAt}, func() error {
		if !within {
			if version != from.Version {
				return fmt.Errorf("stream has version %d where %d was expected", version, from.Version)
			}
			within = true
			return nil
		}
		_, err := s.applyStored(&o, version, eventType, schemaVersion, data, occurredAt)
		return err
	})
	if err != nil {
		return order.Order{}, fmt.Errorf("read stream after version %d: %w", from.Version, err)
	}
	if !within {
		return order.Order{}, fmt.Errorf("read stream after version %d: %w", from.Version, errPastBound)
	}
	return o, nil
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
		return nil, fmt.Errorf("event version %d: %w", version, err)
	}
	o.Apply(e, occurredAt.UTC())
	return e, nil
}
