package eventstore

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/jackc/pgx/v5"
	"github.com/orderapi/orderapi/internal/adapters/postgres"
	"github.com/orderapi/orderapi/internal/app"
)

// auditSQL reads every stored event's data, in table order: a sequential
// scan, the cheapest way through them all.
const auditSQL = `
SELECT event_id, stream_id, stream_version, position, event_type, schema_version, data, occurred_at, recorded_at, personal_key FROM events`

// EventAudit is what AuditEvents found.
type EventAudit struct {
	// Read counts the events decoded; Unreadable those that failed.
	Read, Unreadable int64
	// First are the unreadable events with the lowest positions, at most
	// the number asked for, in position order.
	First []*app.UnreadableEventError
}

// AuditEvents decodes every stored event, as every reader would, and
// reports those this build cannot decode, naming up to max of them.
// CheckDecodable sees only types and schema versions; a value no reader
// can decode (a time beyond what the codec reads, say) shows only here.
// It reads the whole table, so it is for `orderapi check`, not start-up.
func (s *Store) AuditEvents(ctx context.Context, max int) (_ EventAudit, err error) {
	defer postgres.MarkUnavailable(&err)
	rows, err := s.pool.Query(ctx, auditSQL)
	if err != nil {
		return EventAudit{}, fmt.Errorf("audit events: %w", err)
	}
	var (
		audit EventAudit
		st    StoredEvent
	)
	_, err = pgx.ForEachRow(rows, []any{&st.EventID, &st.OrderID, &st.Version, &st.Position, &st.Type, &st.SchemaVersion, &st.Data,
		envelopeTime{&st.OccurredAt}, envelopeTime{&st.RecordedAt}, &st.PersonalKey}, func() error {
		audit.Read++
		if err := st.readable(s.codec); err != nil {
			u, _ := errors.AsType[*app.UnreadableEventError](err)
			audit.Unreadable++
			audit.First = append(audit.First, u)
			// Keep the lowest positions only: the table is not read in order.
			if len(audit.First) > 2*max {
				audit.First = lowest(audit.First, max)
			}
		}
		return nil
	})
	if err != nil {
		return EventAudit{}, fmt.Errorf("audit events: %w", err)
	}
	audit.First = lowest(audit.First, max)
	return audit, nil
}

func lowest(events []*app.UnreadableEventError, n int) []*app.UnreadableEventError {
	slices.SortFunc(events, func(a, b *app.UnreadableEventError) int { return cmp.Compare(a.Position, b.Position) })
	return events[:min(n, len(events))]
}
