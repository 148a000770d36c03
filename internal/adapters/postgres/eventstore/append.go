package eventstore

import (
	"context"
	"errors"
	"fmt"
	"slices"
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
    INSERT INTO order_details AS d (` + orderDetailsColumns + `)
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
    INSERT INTO customer_orders AS c (` + customerOrdersColumns + `)
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

// The columns the append statements write, in the order of their values.
const (
	orderDetailsColumns = `
        order_id, customer_id, status, currency, items, item_count, total,
        shipping_address, tracking_number, carrier, signature, cancel_reason, cancelled_by,
        version, created_at, updated_at, placed_at, shipped_at, delivered_at, cancelled_at, erased`
	customerOrdersColumns = `
        customer_id, order_id, status, currency, total, item_count, version, created_at, updated_at`
)

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
	p, err := s.pendingAppend(ctx, c, true)
	if err != nil {
		return app.Appended{}, fmt.Errorf("append to order %s: %w", c.OrderID, err)
	}
	for attempt, resealed := 1, 0; ; attempt++ {
		var last int64
		if attempt == 1 {
			last, err = s.sendShared(ctx, p)
		} else {
			last, err = s.sendAppend(ctx, p)
		}
		switch {
		case IsKeyDestroyed(err) && resealed < maxReseals:
			// The customer was erased since this replica last heard, or
			// (a candidate refused) another writer stored the customer's
			// key first: seal again with the customer's stored key.
			resealed++
			if p.row.candidate == nil {
				s.keys.Forget(c.State.CustomerID)
			}
			if p, err = s.pendingAppend(ctx, c, false); err != nil {
				return app.Appended{}, fmt.Errorf("append to order %s: %w", c.OrderID, err)
			}
			continue
		case err == nil:
			if k := p.row.candidate; k != nil {
				// Stored with the events: the customer's key from now.
				s.keys.Stored(k)
			}
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

// maxReseals bounds how often Append seals a commit again after its key
// was refused. Sealing again takes the key stored (ForSealing), never
// another candidate, so a refusal is either the first attempt's (a key
// destroyed unheard, or a candidate another writer's key kept out) or
// an erasure of the customer that destroyed the key read meanwhile. Three
// let the first refusal and two such erasures pass: a candidate refused
// for a key an erasure holds locked costs two (the candidate, then that
// key once destroyed), where reading the stored key first cost one.
const maxReseals = 3

// appendRow is one commit laid out for the append statements: the events
// as parallel arrays, the state as the projection row, the idempotency
// claim as NULLs when there is none.
type appendRow struct {
	orderID    uuid.UUID
	expected   int
	metadata   string
	ids        []uuid.UUID
	types      []string
	versions   []int16
	data       []string
	occurredAt []time.Time
	// eventKeys name the key that sealed each event's personal members.
	eventKeys []pgtype.UUID
	// candidate, if set, is the key they were sealed with, not stored
	// yet: the append stores it, in its transaction (see sendAppend).
	candidate   *personaldata.Candidate
	row         DetailsRow
	principal   *string
	key         *string
	fingerprint []byte
	ttl         *int64
}

// pendingAppend is the commit laid out, with the one-commit statement
// that appends it. first lets a customer without a live key in the
// keyring have a candidate, stored with the append.
func (s *Store) pendingAppend(ctx context.Context, c app.Commit, first bool) (*pendingAppend, error) {
	row, err := s.appendArgs(ctx, c, first)
	if err != nil {
		return nil, err
	}
	sql, args, err := appendStatement.Bind(row.named())
	if err != nil {
		return nil, err
	}
	return &pendingAppend{ctx: ctx, commit: c, row: &row, sql: sql, args: args}, nil
}

// appendArgs checks that the commit is coherent and lays it out as the
// statements' parameters: the events sealed, the state as the projection
// row, its personal columns set only where the commit records them. first:
// see pendingAppend.
func (s *Store) appendArgs(ctx context.Context, c app.Commit, first bool) (appendRow, error) {
	if len(c.Events) == 0 {
		return appendRow{}, errors.New("commit has no events")
	}
	if c.ExpectedVersion < 0 {
		return appendRow{}, fmt.Errorf("expected version %d is negative", c.ExpectedVersion)
	}
	// The projections are written from State, so a State that is not the
	// stream after these events would make them lie.
	if want := c.ExpectedVersion + len(c.Events); c.State.ID != c.OrderID || c.State.Version != want {
		return appendRow{}, fmt.Errorf("state is order %s at version %d, want order %s at version %d",
			c.State.ID, c.State.Version, c.OrderID, want)
	}
	metadata, err := s.codec.EncodeMetadata(c.Metadata)
	if err != nil {
		return appendRow{}, err
	}
	n := len(c.Events)
	r := appendRow{
		orderID:    c.OrderID,
		expected:   c.ExpectedVersion,
		metadata:   string(metadata),
		ids:        make([]uuid.UUID, n),
		types:      make([]string, n),
		versions:   make([]int16, n),
		data:       make([]string, n),
		occurredAt: make([]time.Time, n),
		eventKeys:  make([]pgtype.UUID, n),
	}
	var (
		// recorded: the personal fields of the state this commit sets.
		recorded [len(personalKeys{})]bool
		key      *personaldata.DataKey
	)
	for i, e := range c.Events {
		if e.Event == nil {
			return appendRow{}, fmt.Errorf("event %d is nil", i)
		}
		if order.IsErased(e.Event) {
			return appendRow{}, fmt.Errorf("event %d has its personal data erased: only a stored event reads so", i)
		}
		v, d, err := s.codec.Encode(e.Event)
		if err != nil {
			return appendRow{}, fmt.Errorf("event %d: %w", i, err)
		}
		if f := stateField(e.Event); f >= 0 {
			recorded[f] = true
			if key == nil && s.keys != nil {
				if first {
					key, r.candidate, err = s.keys.ForSealingFirst(ctx, c.State.CustomerID)
				} else {
					key, err = s.keys.ForSealing(ctx, c.State.CustomerID)
				}
				if err != nil {
					return appendRow{}, err
				}
			}
		}
		if d, r.eventKeys[i], err = sealEvent(key, e.ID, codec.Schema{EventType: e.Event.EventType(), Version: v}, d); err != nil {
			return appendRow{}, fmt.Errorf("event %d: %w", i, err)
		}
		r.ids[i], r.types[i], r.versions[i], r.data[i], r.occurredAt[i] = e.ID, e.Event.EventType(), int16(v), string(d), e.OccurredAt
	}
	if r.candidate != nil && !slices.ContainsFunc(r.eventKeys, func(k pgtype.UUID) bool { return k.Valid && k.Bytes == key.ID }) {
		// No event names the candidate, so none would be refused were
		// it not stored, and the row would be sealed under a key that
		// is not: take the key stored.
		return s.appendArgs(ctx, c, false)
	}
	if r.row, err = DetailsFromOrder(c.State); err != nil {
		return appendRow{}, err
	}
	// The other personal columns keep what the commits that recorded
	// them wrote.
	for i, col := range detailsColumnsOf(&r.row) {
		if !recorded[i] {
			*col = nil
		}
	}
	if key != nil {
		if err := sealDetails(&r.row, func(int) (*personaldata.DataKey, error) { return key, nil }); err != nil {
			return appendRow{}, err
		}
	}
	// NULLs claim no idempotency key.
	if k := c.Idempotency.Key; k != "" {
		if c.IdempotencyTTL <= 0 {
			return appendRow{}, fmt.Errorf("idempotency key with a TTL of %s", c.IdempotencyTTL)
		}
		r.principal, r.key, r.fingerprint, r.ttl = new(c.Idempotency.Principal), new(k), c.Idempotency.Fingerprint[:], new(c.IdempotencyTTL.Microseconds())
	}
	return r, nil
}

// named is the commit as appendSQL's parameters.
func (r *appendRow) named() pgx.StrictNamedArgs {
	return pgx.StrictNamedArgs{
		"order_id":              postgres.UUID(r.orderID),
		"expected_version":      r.expected,
		"metadata":              r.metadata,
		"event_ids":             postgres.UUIDs(r.ids),
		"event_types":           r.types,
		"schema_versions":       r.versions,
		"event_data":            r.data,
		"occurred_at":           r.occurredAt,
		"personal_keys":         r.eventKeys,
		"customer_id":           postgres.UUID(r.row.CustomerID),
		"status":                r.row.Status,
		"currency":              r.row.Currency,
		"items":                 r.row.Items,
		"item_count":            r.row.ItemCount,
		"total":                 r.row.Total,
		"shipping_address":      r.row.ShippingAddress,
		"tracking_number":       r.row.TrackingNumber,
		"carrier":               r.row.Carrier,
		"signature":             r.row.Signature,
		"cancel_reason":         r.row.CancelReason,
		"cancelled_by":          r.row.CancelledBy,
		"version":               r.row.Version,
		"created_at":            r.row.CreatedAt,
		"updated_at":            r.row.UpdatedAt,
		"placed_at":             r.row.PlacedAt,
		"shipped_at":            r.row.ShippedAt,
		"delivered_at":          r.row.DeliveredAt,
		"cancelled_at":          r.row.CancelledAt,
		"erased":                r.row.Erased,
		"idempotency_principal": r.principal,
		"idempotency_key":       r.key,
		"fingerprint":           r.fingerprint,
		"claim_ttl_us":          r.ttl,
	}
}

// IsKeyDestroyed reports whether PostgreSQL refused a write because it
// sealed with a key that is no longer live (events_require_live_key).
func IsKeyDestroyed(err error) bool {
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
