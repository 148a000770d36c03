package eventstore

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/orderapi/orderapi/internal/adapters/personaldata"
	"github.com/orderapi/orderapi/internal/adapters/postgres"
	"github.com/orderapi/orderapi/internal/adapters/postgres/codec"
	"github.com/orderapi/orderapi/internal/app"
	"github.com/orderapi/orderapi/internal/domain/order"
)

// SQLSTATEs and constraint names the store classifies. They come from
// PostgreSQL and migrations/00001_event_store.sql, never from message text.
const (
	sqlstateUniqueViolation = "23505"
	sqlstateStreamGap       = "OAGAP" // events_check_contiguous
	constraintStreamVersion = "events_stream_version_key"
)

// appendSQL writes a commit as ONE statement: the events, both inline
// projections (guarded by version) and the idempotency claim, in
// data-modifying CTEs. One statement is atomic by itself: no BEGIN or
// COMMIT, one round trip. ORDER BY feeds the events to the contiguity
// trigger in version order. See docs/design.md, "The one-statement
// append" and "Idempotency claims".
var appendSQL = `
WITH appended AS (
    INSERT INTO events (event_id, stream_id, stream_version, event_type, schema_version, data, metadata, occurred_at, personal_key)
    SELECT e.event_id, @order_id::uuid, @expected_version::integer + e.n, e.event_type, e.schema_version,
           e.data::jsonb, @metadata::text::jsonb, e.occurred_at, e.personal_key
      FROM unnest(@event_ids::uuid[], @event_types::text[], @schema_versions::smallint[],
                  @event_data::text[], @occurred_at::timestamptz[], @personal_keys::uuid[])
           WITH ORDINALITY AS e(event_id, event_type, schema_version, data, occurred_at, personal_key, n)
     ORDER BY e.n
    RETURNING position
), details AS (
    INSERT INTO order_details AS d (
        order_id, customer_id, status, currency, items, item_count, total,
        shipping_address, tracking_number, carrier, signature, cancel_reason, cancelled_by,
        version, created_at, updated_at, placed_at, shipped_at, delivered_at, cancelled_at, erased)
    VALUES (
        @order_id::uuid, @customer_id::uuid, @status::text, @currency::text, @items::text::jsonb,
        @item_count::integer, @total::text::numeric,
        @shipping_address::text::jsonb, @tracking_number::text, @carrier::text, @signature::text,
        @cancel_reason::text, @cancelled_by::text,
        @version::integer, @created_at::timestamptz, @updated_at::timestamptz, @placed_at::timestamptz,
        @shipped_at::timestamptz, @delivered_at::timestamptz, @cancelled_at::timestamptz, @erased::boolean)
    ON CONFLICT (order_id) DO UPDATE SET
` + appendDetailsUpdate + `
    WHERE d.version < EXCLUDED.version
), summary AS (
    INSERT INTO customer_orders AS c (
        customer_id, order_id, status, currency, total, item_count, version, created_at, updated_at)
    VALUES (
        @customer_id::uuid, @order_id::uuid, @status::text, @currency::text, @total::text::numeric,
        @item_count::integer, @version::integer, @created_at::timestamptz, @updated_at::timestamptz)
    ON CONFLICT (customer_id, order_id) DO UPDATE SET
` + CustomerOrdersUpdate + `
    WHERE c.version < EXCLUDED.version
), claimed AS (
    INSERT INTO idempotency_keys (principal, key, fingerprint, order_id, version, position, expires_at)
    SELECT @idempotency_principal::text, @idempotency_key::text, @fingerprint::bytea, @order_id::uuid, @version::integer, a.position,
           now() + @claim_ttl_us::bigint * interval '1 microsecond'
      FROM (SELECT max(position) AS position FROM appended) a
     WHERE @idempotency_key::text IS NOT NULL
)
SELECT max(position) FROM appended`

// appendStatement is appendSQL with positional parameters.
var appendStatement = postgres.CompileNamed(appendSQL)

// Append writes the commit's events at versions ExpectedVersion+1, +2, ...
// and brings both projections to c.State, all or nothing, in one statement.
// A stream that is not at ExpectedVersion is app.ErrAppendConflict; an
// idempotency key that another commit holds is app.ErrKeyClaimed. A key
// whose claim has expired is freed and the append tried once more. Once
// the statement is sent, its outcome is what Append returns, whatever ctx
// says meanwhile: see sendAppend.
func (s *Store) Append(ctx context.Context, c app.Commit) (_ app.Appended, err error) {
	defer postgres.MarkUnavailable(&err)
	sql, args, err := s.appendStatement(ctx, c)
	if err != nil {
		return app.Appended{}, fmt.Errorf("append to order %s: %w", c.OrderID, err)
	}
	for attempt, resealed := 1, 0; ; attempt++ {
		last, err := s.sendAppend(ctx, c, sql, args)
		switch {
		case isKeyDestroyed(err) && resealed < 2:
			// The customer was erased since this replica last heard:
			// seal again, with the customer's new key.
			resealed++
			s.keys.Forget(c.State.CustomerID)
			if sql, args, err = s.appendStatement(ctx, c); err != nil {
				return app.Appended{}, fmt.Errorf("append to order %s: %w", c.OrderID, err)
			}
			continue
		case err == nil:
			if s.announce != nil {
				s.announce.Appended()
			}
			return app.Appended{LastPosition: last}, nil
		case isVersionConflict(err):
			return app.Appended{}, fmt.Errorf("append to order %s at version %d: %w (%w)", c.OrderID, c.ExpectedVersion, app.ErrAppendConflict, err)
		case isKeyClaimed(err) && attempt == 1:
			free, ferr := s.freeExpiredKey(ctx, c.Idempotency.Principal, c.Idempotency.Key)
			if ferr != nil {
				return app.Appended{}, fmt.Errorf("append to order %s at version %d: %w", c.OrderID, c.ExpectedVersion, ferr)
			}
			if free {
				continue
			}
			fallthrough
		case isKeyClaimed(err):
			return app.Appended{}, fmt.Errorf("append to order %s at version %d: %w (%w)", c.OrderID, c.ExpectedVersion, app.ErrKeyClaimed, err)
		default:
			return app.Appended{}, fmt.Errorf("append to order %s at version %d: %w", c.OrderID, c.ExpectedVersion, err)
		}
	}
}

// appendStatement is the statement that appends c, and its arguments.
func (s *Store) appendStatement(ctx context.Context, c app.Commit) (string, []any, error) {
	named, err := s.appendArgs(ctx, c)
	if err != nil {
		return "", nil, err
	}
	return appendStatement.Bind(named)
}

// appendArgs checks that the commit is coherent and lays it out as the
// statement's parameters: the events as parallel arrays, sealed, the
// state as the projection row, its personal columns set only where the
// commit records them.
func (s *Store) appendArgs(ctx context.Context, c app.Commit) (pgx.StrictNamedArgs, error) {
	if len(c.Events) == 0 {
		return nil, errors.New("commit has no events")
	}
	if c.ExpectedVersion < 0 {
		return nil, fmt.Errorf("expected version %d is negative", c.ExpectedVersion)
	}
	// The projections are written from State, so a State that is not the
	// stream after these events would make them lie.
	if want := c.ExpectedVersion + len(c.Events); c.State.ID != c.OrderID || c.State.Version != want {
		return nil, fmt.Errorf("state is order %s at version %d, want order %s at version %d",
			c.State.ID, c.State.Version, c.OrderID, want)
	}
	metadata, err := s.codec.EncodeMetadata(c.Metadata)
	if err != nil {
		return nil, err
	}
	n := len(c.Events)
	var (
		ids        = make([]uuid.UUID, n)
		types      = make([]string, n)
		versions   = make([]int16, n)
		data       = make([]string, n)
		occurredAt = make([]time.Time, n)
		eventKeys  = make([]pgtype.UUID, n)
		// recorded: the personal fields of the state this commit sets.
		recorded [len(personalKeys{})]bool
		key      *personaldata.DataKey
	)
	for i, e := range c.Events {
		if e.Event == nil {
			return nil, fmt.Errorf("event %d is nil", i)
		}
		if order.IsErased(e.Event) {
			return nil, fmt.Errorf("event %d has its personal data erased: only a stored event reads so", i)
		}
		v, d, err := s.codec.Encode(e.Event)
		if err != nil {
			return nil, fmt.Errorf("event %d: %w", i, err)
		}
		if f := stateField(e.Event); f >= 0 {
			recorded[f] = true
			if key == nil && s.keys != nil {
				if key, err = s.keys.ForSealing(ctx, c.State.CustomerID); err != nil {
					return nil, err
				}
			}
		}
		if d, eventKeys[i], err = sealEvent(key, e.ID, codec.Schema{EventType: e.Event.EventType(), Version: v}, d); err != nil {
			return nil, fmt.Errorf("event %d: %w", i, err)
		}
		ids[i], types[i], versions[i], data[i], occurredAt[i] = e.ID, e.Event.EventType(), int16(v), string(d), e.OccurredAt
	}
	row, err := DetailsFromOrder(c.State)
	if err != nil {
		return nil, err
	}
	// The other personal columns keep what the commits that recorded
	// them wrote.
	for i, col := range detailsColumnsOf(&row) {
		if !recorded[i] {
			*col = nil
		}
	}
	if key != nil {
		if err := sealDetails(&row, func(int) (*personaldata.DataKey, error) { return key, nil }); err != nil {
			return nil, err
		}
	}
	// NULLs claim no idempotency key.
	var idemPrincipal, idemKey, fingerprint, ttl any
	if k := c.Idempotency.Key; k != "" {
		if c.IdempotencyTTL <= 0 {
			return nil, fmt.Errorf("idempotency key with a TTL of %s", c.IdempotencyTTL)
		}
		idemPrincipal, idemKey, fingerprint, ttl = c.Idempotency.Principal, k, c.Idempotency.Fingerprint[:], c.IdempotencyTTL.Microseconds()
	}
	return pgx.StrictNamedArgs{
		"order_id":              postgres.UUID(c.OrderID),
		"expected_version":      c.ExpectedVersion,
		"metadata":              string(metadata),
		"event_ids":             postgres.UUIDs(ids),
		"event_types":           types,
		"schema_versions":       versions,
		"event_data":            data,
		"occurred_at":           occurredAt,
		"personal_keys":         eventKeys,
		"customer_id":           postgres.UUID(row.CustomerID),
		"status":                row.Status,
		"currency":              row.Currency,
		"items":                 row.Items,
		"item_count":            row.ItemCount,
		"total":                 row.Total,
		"shipping_address":      row.ShippingAddress,
		"tracking_number":       row.TrackingNumber,
		"carrier":               row.Carrier,
		"signature":             row.Signature,
		"cancel_reason":         row.CancelReason,
		"cancelled_by":          row.CancelledBy,
		"version":               row.Version,
		"created_at":            row.CreatedAt,
		"updated_at":            row.UpdatedAt,
		"placed_at":             row.PlacedAt,
		"shipped_at":            row.ShippedAt,
		"delivered_at":          row.DeliveredAt,
		"cancelled_at":          row.CancelledAt,
		"erased":                row.Erased,
		"idempotency_principal": idemPrincipal,
		"idempotency_key":       idemKey,
		"fingerprint":           fingerprint,
		"claim_ttl_us":          ttl,
	}, nil
}

// isKeyDestroyed reports whether PostgreSQL refused the append because
// an event was sealed with a key that is no longer live.
func isKeyDestroyed(err error) bool {
	pgErr, ok := errors.AsType[*pgconn.PgError](err)
	return ok && pgErr.Code == sqlstateKeyDestroyed
}

// isVersionConflict reports whether PostgreSQL refused the append because
// the stream was not at the expected version: another writer took the
// next version first (unique key), or the expected version is ahead of the
// stream (contiguity trigger).
func isVersionConflict(err error) bool {
	var pgErr *pgconn.PgError
	if !errors.As(err, &pgErr) {
		return false
	}
	switch pgErr.Code {
	case sqlstateUniqueViolation:
		return pgErr.ConstraintName == constraintStreamVersion
	case sqlstateStreamGap:
		return true
	}
	return false
}
