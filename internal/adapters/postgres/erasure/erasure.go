// Package erasure erases customers' personal data in PostgreSQL: it
// destroys the customer's data keys (customer_data_keys) and appends the
// record of it to the customer's stream in the events table, in one
// transaction, so that the erasure is done and on record, or neither. It
// is the app's PersonalDataEraser.
package erasure

import (
	"context"
	"errors"
	"fmt"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/orderapi/orderapi/internal/adapters/postgres"
	"github.com/orderapi/orderapi/internal/adapters/postgres/codec"
	"github.com/orderapi/orderapi/internal/adapters/postgres/datakeys"
	"github.com/orderapi/orderapi/internal/adapters/postgres/eventstore"
	"github.com/orderapi/orderapi/internal/adapters/postgres/notify"
	"github.com/orderapi/orderapi/internal/app"
	"github.com/orderapi/orderapi/internal/domain/customer"
)

// Store erases over the event store of the primary.
type Store struct {
	pool   *pgxpool.Pool
	codec  *codec.Codec
	events *eventstore.Store
	cfg    Config
	// betweenForTests, when set, runs in the transaction after the keys'
	// destruction and before the record: tests end the transaction
	// there, as a crash would.
	betweenForTests func(ctx context.Context, tx pgx.Tx) error
}

// Config sets up a Store.
type Config struct {
	// Announcer, if set, wakes the readers of the feed, where the record
	// appears.
	Announcer *notify.Announcer
}

var _ app.PersonalDataEraser = (*Store)(nil)

// New returns a Store that erases in the event store's database, with its
// codec; the store's keyring, this process's, forgets the customer as soon
// as the erasure commits, before the notification comes round.
func New(events *eventstore.Store, cfg Config) *Store {
	return &Store{pool: events.Pool(), codec: events.Codec(), events: events, cfg: cfg}
}

// ErasePersonalData implements app.PersonalDataEraser: it destroys the
// customer's live keys and records e in the customer's stream when it
// destroyed any, or when the stream holds no record yet.
func (s *Store) ErasePersonalData(ctx context.Context, e app.Erasure) (recorded bool, err error) {
	return s.erase(ctx, e, func(tx pgx.Tx) ([]uuid.UUID, error) {
		return datakeys.Lock(ctx, tx, e.Event.CustomerID)
	}, true)
}

// reapply is ErasePersonalData for an erasure applied again: it destroys
// those of keys that are live, and records e only when it destroyed any.
func (s *Store) reapply(ctx context.Context, e app.Erasure, keys []uuid.UUID) (recorded bool, err error) {
	return s.erase(ctx, e, func(tx pgx.Tx) ([]uuid.UUID, error) {
		return datakeys.LockKeys(ctx, tx, e.Event.CustomerID, keys)
	}, false)
}

// maxAttempts bounds the tries of an erasure whose record lost the race
// for its stream's next version to another erasure of the customer, or
// that sealed with a key another replica's erasure had destroyed.
const maxAttempts = 3

// erase locks the keys lock locks, destroys them and, when it destroyed
// any or (firstRecord) the customer's stream is empty, appends e's record,
// in one transaction, tried again when another erasure of the customer
// took the stream's next version first. The keys are locked before any
// other row (see datakeys.Lock and eventstore.PrepareErasure), so that
// the appends sealing with them never deadlock with the erasure.
func (s *Store) erase(ctx context.Context, e app.Erasure, lock func(pgx.Tx) ([]uuid.UUID, error), firstRecord bool) (recorded bool, err error) {
	defer postgres.MarkUnavailable(&err)
	if e.Event.CustomerID == uuid.Nil {
		return false, errors.New("erase personal data: nil customer id")
	}
	metadata, err := s.codec.EncodeMetadata(e.Metadata)
	if err != nil {
		return false, err
	}
	stream := customer.StreamID(e.Event.CustomerID)
	for attempt := 1; ; attempt++ {
		recorded = false
		err = pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
			// Every copy of the customer's personal data depends on its
			// keys alone before they go (events stored in clear, rows and
			// snapshots written before sealing).
			keys, err := s.events.PrepareErasure(ctx, tx, e.Event.CustomerID, func() ([]uuid.UUID, error) { return lock(tx) })
			if err != nil {
				return err
			}
			destroyed, err := datakeys.DestroyKeys(ctx, tx, e.Event.CustomerID, keys)
			if err != nil {
				return err
			}
			if s.betweenForTests != nil {
				if err := s.betweenForTests(ctx, tx); err != nil {
					return err
				}
			}
			var version int
			if err := tx.QueryRow(ctx, `SELECT coalesce(max(stream_version), 0) FROM events WHERE stream_id = $1`,
				postgres.UUID(stream)).Scan(&version); err != nil {
				return fmt.Errorf("customer stream %s: %w", stream, err)
			}
			if len(destroyed) == 0 && (version > 0 || !firstRecord) {
				// Nothing destroyed since the last record: nothing to add.
				return nil
			}
			event := e.Event
			event.DataKeys = destroyed
			schemaVersion, data, err := s.codec.EncodeCustomer(event)
			if err != nil {
				return err
			}
			// It occurred when the keys were destroyed: now(), the
			// transaction's time, as their destroyed_at.
			if _, err := tx.Exec(ctx, `
INSERT INTO events (event_id, stream_id, stream_version, event_type, schema_version, data, metadata, occurred_at)
VALUES ($1, $2, $3, $4, $5, $6::text::jsonb, $7::text::jsonb, now())`,
				postgres.UUID(e.EventID), postgres.UUID(stream), version+1, e.Event.EventType(), schemaVersion,
				string(data), string(metadata)); err != nil {
				return fmt.Errorf("record the erasure in customer stream %s: %w", stream, err)
			}
			recorded = true
			return nil
		})
		if err == nil || attempt == maxAttempts {
			break
		}
		if eventstore.IsKeyDestroyed(err) {
			// The keyring sealed with a key destroyed since it read it.
			if k := s.events.Keyring(); k != nil {
				k.Forget(e.Event.CustomerID)
			}
		} else if !lostTheVersion(err) {
			break
		}
	}
	// Even after an error: the commit may have been done unseen, and
	// forgetting costs a read of the key at most.
	if k := s.events.Keyring(); k != nil {
		k.Forget(e.Event.CustomerID)
	}
	if err != nil {
		return false, fmt.Errorf("erase the personal data of customer %s: %w", e.Event.CustomerID, err)
	}
	if recorded && s.cfg.Announcer != nil {
		s.cfg.Announcer.Appended()
	}
	return recorded, nil
}

// lostTheVersion reports whether another writer appended to the stream's
// next version first.
func lostTheVersion(err error) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && pgErr.Code == "23505" && pgErr.ConstraintName == "events_stream_version_key"
}
