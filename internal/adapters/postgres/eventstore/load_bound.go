package eventstore

import (
	"time"

	"github.com/google/uuid"
	"github.com/orderapi/orderapi/internal/adapters/postgres"
)

// bound is where a fold stops: at the stream's end, after a version, or
// as of a time. Either way it is a last version, so the events folded are
// always a prefix of the stream, and the state answered is one that
// followed an event.
type bound struct {
	kind    boundKind
	version int
	asOf    time.Time
}

type boundKind uint8

const (
	boundEnd boundKind = iota
	boundVersion
	boundOccurred
	boundKinds
)

var streamEnd = bound{}

func untilVersion(v int) bound { return bound{kind: boundVersion, version: v} }

// untilOccurred bounds a fold by the time the order shows, its events'
// occurred_at: it takes the longest run of the stream's first events that
// all occurred at or before t, and stops before the first that occurred
// after it. With one clock that is every event up to t. Should a
// stream's times ever not grow with its versions (events written by
// replicas whose clocks disagreed), it still answers the state after some
// event, never a mix of events from either side of t.
func untilOccurred(t time.Time) bound { return bound{kind: boundOccurred, asOf: t} }

// args appends the bound's parameter, $3 of the statements that read up
// to it, to the others; there is none for the stream's end.
func (b bound) args(args ...any) []any {
	switch b.kind {
	case boundVersion:
		return append(args, b.version)
	case boundOccurred:
		return append(args, b.asOf)
	}
	return args
}

// boundSQL keeps a read of the stream of $1, from the version that the
// expression from gives on, within the bound that $3 gives. The first
// event that occurred after $3 is looked up from there, along the
// stream-version key: a fold from a snapshot reads no more of the stream
// than the events it folds and that one.
func boundSQL(kind boundKind, from string) string {
	switch kind {
	case boundVersion:
		return `
   AND stream_version <= $3`
	case boundOccurred:
		return `
   AND stream_version < coalesce((SELECT min(stream_version) FROM events
                                   WHERE stream_id = $1 AND stream_version >= ` + from + ` AND occurred_at > $3),
                                 2147483647)`
	}
	return ""
}

// streamSQLs read a stream's events from version $2 on, in version order,
// within each kind of bound: one text per kind, built once from constants,
// so that each is planned on its own. The stream-version key's index
// serves each.
var streamSQLs = func() (texts [boundKinds]string) {
	for kind := range boundKinds {
		texts[kind] = `
SELECT stream_version, event_type, schema_version, data, occurred_at, event_id, personal_key
  FROM events
 WHERE stream_id = $1 AND stream_version >= $2` + boundSQL(kind, "$2") + `
 ORDER BY stream_version`
	}
	return texts
}()

// streamSQL returns the statement and arguments that read the stream of id
// from version from to the bound.
func streamSQL(id uuid.UUID, from int, b bound) (string, []any) {
	return streamSQLs[b.kind], b.args(postgres.UUID(id), from)
}
