package eventstore

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/orderapi/orderapi/internal/adapters/postgres"
	"github.com/orderapi/orderapi/internal/adapters/postgres/codec"
)

// storedSchemasSQL lists the distinct (event_type, schema_version) pairs
// in the events table by a loose index scan over events_type_schema_idx:
// each step jumps to the next pair, so it reads a few index pages per pair
// however many events there are (well under a millisecond on a million
// rows, where SELECT DISTINCT reads the whole table: some 200 ms). On a
// database not yet migrated to that index it is still correct, only slow.
const storedSchemasSQL = `
WITH RECURSIVE pairs AS (
    (SELECT event_type, schema_version FROM events ORDER BY event_type, schema_version LIMIT 1)
    UNION ALL
    SELECT next.event_type, next.schema_version
      FROM pairs p,
           LATERAL (SELECT e.event_type, e.schema_version FROM events e
                     WHERE (e.event_type, e.schema_version) > (p.event_type, p.schema_version)
                     ORDER BY e.event_type, e.schema_version
                     LIMIT 1) next
)
SELECT event_type, schema_version FROM pairs`

// StoredSchemas returns every (event type, schema version) in the events
// table, sorted.
func (s *Store) StoredSchemas(ctx context.Context) (_ []codec.Schema, err error) {
	defer postgres.MarkUnavailable(&err)
	rows, err := s.pool.Query(ctx, storedSchemasSQL)
	if err != nil {
		return nil, fmt.Errorf("stored event schemas: %w", err)
	}
	found, err := pgx.CollectRows(rows, pgx.RowToStructByPos[codec.Schema])
	if err != nil {
		return nil, fmt.Errorf("stored event schemas: %w", err)
	}
	return found, nil
}

// ErrUnknownSchemas is CheckDecodable's error when the events table holds
// types or schema versions this build has no decoder for.
var ErrUnknownSchemas = errors.New("written by a newer build, or by hand")

// CheckDecodable reads the (event type, schema version) pairs in the
// events table and returns them, with an error naming every pair this
// build's codec cannot decode (nil when it decodes them all). Such events
// were written by a newer build (or by hand): a replica serving them
// would fail on every order, feed page or analytics batch that reached
// one, so orderapi serve refuses to start instead.
func (s *Store) CheckDecodable(ctx context.Context) ([]codec.Schema, error) {
	stored, err := s.StoredSchemas(ctx)
	if err != nil {
		return nil, err
	}
	var unknown []string
	for _, sc := range stored {
		if !s.codec.Decodable(sc.EventType, sc.Version) {
			unknown = append(unknown, fmt.Sprintf("%q at schema version %d", sc.EventType, sc.Version))
		}
	}
	if len(unknown) > 0 {
		return stored, fmt.Errorf("the events table holds events this build cannot decode: %s: %w", strings.Join(unknown, ", "), ErrUnknownSchemas)
	}
	return stored, nil
}
