package erasure

import (
	"context"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/orderapi/orderapi/internal/adapters/postgres"
	"github.com/orderapi/orderapi/internal/app"
	"github.com/orderapi/orderapi/internal/domain/customer"
)

// Erased is an erasure on record: the customer, when its keys were
// destroyed, and the event that recorded it.
type Erased struct {
	CustomerID uuid.UUID
	// DataKeys are the keys the erasure destroyed.
	DataKeys []uuid.UUID
	At       time.Time
	EventID  uuid.UUID
}

// Recorded returns every erasure recorded in this database's customer
// streams, in feed order.
func (s *Store) Recorded(ctx context.Context) (_ []Erased, err error) {
	defer postgres.MarkUnavailable(&err)
	rows, err := s.pool.Query(ctx, `SELECT event_id, event_type, schema_version, data, occurred_at FROM events
 WHERE event_type = $1 ORDER BY transaction_id, position`, customer.TypePersonalDataErased)
	if err != nil {
		return nil, fmt.Errorf("recorded erasures: %w", err)
	}
	var (
		all           []Erased
		r             Erased
		eventType     string
		schemaVersion int
		data          []byte
	)
	_, err = pgx.ForEachRow(rows, []any{postgres.ScanUUID(&r.EventID), &eventType, &schemaVersion, &data, &r.At}, func() error {
		e, err := s.codec.DecodeCustomer(eventType, schemaVersion, data)
		if err != nil {
			return fmt.Errorf("event %s: %w", r.EventID, err)
		}
		erased := e.(customer.PersonalDataErased)
		r.CustomerID, r.DataKeys = erased.CustomerID, erased.DataKeys
		all = append(all, r)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("recorded erasures: %w", err)
	}
	return all, nil
}

// ReapplyReport is what Reapply did.
type ReapplyReport struct {
	// Erasures counts the erasures applied again; Destroyed those that
	// found keys to destroy, each recorded anew.
	Erasures, Destroyed int
}

// Reapply applies the erasures again, as after a restore of a backup
// taken before some of them: it destroys the keys each destroyed that the
// restore brought back, and records the erasure anew where it destroyed
// any, with meta (whose causation id names the erasure's event). A key
// the erasure did not destroy (made for the customer's later personal
// data, or by a command racing it) is left alone; an erasure that finds
// nothing to destroy records nothing, so Reapply may run any number of
// times.
func (s *Store) Reapply(ctx context.Context, erasures []Erased, meta app.Metadata) (ReapplyReport, error) {
	var rep ReapplyReport
	for _, e := range erasures {
		id, err := uuid.NewV7()
		if err != nil {
			return rep, err
		}
		m := meta
		if e.EventID != uuid.Nil {
			m.CausationID = e.EventID.String()
		}
		recorded, err := s.reapply(ctx, app.Erasure{EventID: id, Event: customer.PersonalDataErased{CustomerID: e.CustomerID}, Metadata: m},
			e.DataKeys)
		if err != nil {
			return rep, err
		}
		rep.Erasures++
		if recorded {
			rep.Destroyed++
		}
	}
	return rep, nil
}
