package eventstore

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/orderapi/orderapi/internal/adapters/personaldata"
	"github.com/orderapi/orderapi/internal/adapters/postgres"
	"github.com/orderapi/orderapi/internal/adapters/postgres/coalesce"
	"github.com/orderapi/orderapi/internal/app"
)

// The appends of different orders that arrive while others run are sent
// together, as one statement: one round trip, one start of the executor,
// one commit for all of them, which is most of what an append costs the
// database. A batch is all or nothing, as one append is; when it fails,
// each of its commits is sent again alone, so that each caller is told
// its own outcome (a conflict, a claimed key) exactly as before. See
// docs/performance.md, "CPU per command".

// Bounds of the appends' coalescing, unless Config.Appends sets them.
const (
	defaultAppendsInFlight = 2
	defaultAppendsPerBatch = 16
)

// appendBatchSQL is appendSQL for several commits of different orders:
// the commits' values as parallel arrays, one element per commit, and
// their events as parallel arrays too, each naming its commit (1, 2 …)
// and its place in it (1, 2 …). It answers each order's last position.
var appendBatchSQL = `
WITH c AS (
    SELECT * FROM unnest(@order_ids::uuid[], @expected_versions::integer[], @metadata::text[],
           @customer_ids::uuid[], @statuses::text[], @currencies::text[], @items::text[],
           @item_counts::integer[], @totals::text[], @shipping_addresses::text[],
           @tracking_numbers::text[], @carriers::text[], @signatures::text[],
           @cancel_reasons::text[], @cancelled_bys::text[], @versions::integer[],
           @created_at::timestamptz[], @updated_at::timestamptz[], @placed_at::timestamptz[],
           @shipped_at::timestamptz[], @delivered_at::timestamptz[], @cancelled_at::timestamptz[],
           @idempotency_principals::text[], @idempotency_keys::text[], @fingerprints::bytea[],
           @claim_ttls_us::bigint[], @erased::boolean[])
           WITH ORDINALITY AS c(order_id, expected_version, metadata, customer_id, status, currency, items,
                item_count, total, shipping_address, tracking_number, carrier, signature, cancel_reason,
                cancelled_by, version, created_at, updated_at, placed_at, shipped_at, delivered_at,
                cancelled_at, idempotency_principal, idempotency_key, fingerprint, claim_ttl_us, erased, i)
), appended AS (
    INSERT INTO events (event_id, stream_id, stream_version, event_type, schema_version, data, metadata, occurred_at, personal_key)
    SELECT e.event_id, c.order_id, c.expected_version + e.n, e.event_type, e.schema_version,
           e.data::jsonb, c.metadata::jsonb, e.occurred_at, e.personal_key
      FROM unnest(@event_commits::integer[], @event_numbers::integer[], @event_ids::uuid[],
                  @event_types::text[], @schema_versions::smallint[], @event_data::text[],
                  @occurred_at::timestamptz[], @personal_keys::uuid[])
           AS e(commit, n, event_id, event_type, schema_version, data, occurred_at, personal_key)
      JOIN c ON c.i = e.commit
     ORDER BY e.commit, e.n
    RETURNING stream_id, position
), last AS (
    SELECT stream_id, max(position) AS position FROM appended GROUP BY stream_id
), details AS (
    INSERT INTO order_details AS d (` + orderDetailsColumns + `)
    SELECT c.order_id, c.customer_id, c.status, c.currency, c.items::jsonb, c.item_count, c.total::numeric,
           c.shipping_address::jsonb, c.tracking_number, c.carrier, c.signature, c.cancel_reason, c.cancelled_by,
           c.version, c.created_at, c.updated_at, c.placed_at, c.shipped_at, c.delivered_at, c.cancelled_at, c.erased
      FROM c
    ON CONFLICT (order_id) DO UPDATE SET
` + appendDetailsUpdate + `
    WHERE d.version < EXCLUDED.version
), summary AS (
    INSERT INTO customer_orders AS s (` + customerOrdersColumns + `)
    SELECT c.customer_id, c.order_id, c.status, c.currency, c.total::numeric, c.item_count, c.version,
           c.created_at, c.updated_at
      FROM c
    ON CONFLICT (customer_id, order_id) DO UPDATE SET
` + CustomerOrdersUpdate + `
    WHERE s.version < EXCLUDED.version
), claimed AS (
    INSERT INTO idempotency_keys (principal, key, fingerprint, order_id, version, position, expires_at)
    SELECT c.idempotency_principal, c.idempotency_key, c.fingerprint, c.order_id, c.version, l.position,
           now() + c.claim_ttl_us * interval '1 microsecond'
      FROM c JOIN last l ON l.stream_id = c.order_id
     WHERE c.idempotency_key IS NOT NULL
)
SELECT stream_id, position FROM last`

// appendBatchStatement is appendBatchSQL with positional parameters.
var appendBatchStatement = postgres.CompileNamed(appendBatchSQL)

// errSendAlone answers a commit of a batch that did not commit: it is to
// be sent again by itself.
var errSendAlone = errors.New("append: send alone")

// pendingAppend is one Append waiting to be sent: its commit, as the
// one-commit statement and as a row of a batch.
type pendingAppend struct {
	ctx    context.Context // the caller's: a batch leaves out a call whose ctx has ended
	commit app.Commit
	row    *appendRow
	sql    string
	args   []any
}

// sendShared sends the append at once when fewer than the allowed
// batches are in flight, else with the others waiting when one ends. A
// call waits for its outcome once it may have been sent, whatever its ctx
// says, as sendAppend does; before, a batch leaves it out when its ctx has
// ended. A closed store sends alone.
func (s *Store) sendShared(ctx context.Context, p *pendingAppend) (int64, error) {
	last, err := s.appends.Get(context.WithoutCancel(ctx), p)
	if errors.Is(err, errSendAlone) || errors.Is(err, coalesce.ErrClosed) {
		return s.sendAppend(ctx, p)
	}
	return last, err
}

// sendAppends is the appends' fetch: one commit alone, in its caller's
// context, as ever; several in one statement.
func (s *Store) sendAppends(ctx context.Context, calls []*pendingAppend) ([]coalesce.Result[int64], error) {
	rs := make([]coalesce.Result[int64], len(calls))
	if len(calls) == 1 {
		p := calls[0]
		rs[0].Value, rs[0].Err = s.sendAppend(p.ctx, p)
		return rs, nil
	}
	// A caller that gave up before its commit was sent is told so, and
	// nothing of it is written.
	var batch []int
	orders := make(map[uuid.UUID]bool, len(calls))
	candidates := make(map[uuid.UUID]bool)
	for i, p := range calls {
		k := p.row.candidate
		switch {
		case p.ctx.Err() != nil:
			rs[i].Err = p.ctx.Err()
		case orders[p.commit.OrderID]:
			// Two commits of one order (racing writers) cannot share a
			// statement; each goes alone and one of them conflicts.
			rs[i].Err = errSendAlone
		case k != nil && candidates[k.Stored.CustomerID]:
			// Two candidates of one customer: one would be kept out,
			// failing the batch; the second goes alone and, kept out
			// there, is sealed again with the first.
			rs[i].Err = errSendAlone
		default:
			orders[p.commit.OrderID] = true
			if k != nil {
				candidates[k.Stored.CustomerID] = true
			}
			batch = append(batch, i)
		}
	}
	switch len(batch) {
	case 0:
		return rs, nil
	case 1:
		rs[batch[0]].Err = errSendAlone
		return rs, nil
	}
	for j, r := range s.sendBatch(ctx, calls, batch) {
		rs[batch[j]] = r
	}
	return rs, nil
}

// sendBatch runs appendBatchSQL for the commits of calls at batch, after
// the statement that stores their candidate keys in the same transaction
// (see runAppend), and answers each with its last position. Nothing sent, or an error of the
// statement (which then rolled back), is errSendAlone for each; an
// outcome that could not be read is resolved commit by commit, as
// resolveAppend resolves one's (the statement commits all or none).
func (s *Store) sendBatch(ctx context.Context, calls []*pendingAppend, batch []int) []coalesce.Result[int64] {
	rs := make([]coalesce.Result[int64], len(batch))
	fail := func(err error) []coalesce.Result[int64] {
		for j := range rs {
			rs[j].Err = err
		}
		return rs
	}
	rows := make([]*appendRow, len(batch))
	var keys []personaldata.StoredKey
	for j, i := range batch {
		rows[j] = calls[i].row
		if k := rows[j].candidate; k != nil {
			keys = append(keys, k.Stored)
		}
	}
	sql, args, err := appendBatchStatement.Bind(batchArgs(rows))
	if err != nil {
		return fail(fmt.Errorf("append a batch of %d: %w", len(rows), err))
	}
	conn, err := s.pool.Acquire(ctx)
	if err != nil {
		return fail(errSendAlone)
	}
	pid := conn.Conn().PgConn().PID()
	wait, cancel := context.WithTimeout(ctx, s.outcomeWait)
	defer cancel()
	got := make(map[uuid.UUID]int64, len(rows))
	var id uuid.UUID
	var last int64
	err = runAppend(wait, conn, keys, sql, args, []any{&id, &last}, func() error {
		got[id] = last
		return nil
	})
	switch {
	case settle(conn, err) == outcomeUnknown:
		for j, i := range batch {
			rs[j].Value, rs[j].Err = s.resolveAppend(ctx, calls[i].commit, pid, statementsOf(sql, keys), err)
		}
		return rs
	case err != nil:
		// Not sent, or refused and rolled back: nothing was written.
		return fail(errSendAlone)
	}
	for j, r := range rows {
		if rs[j].Value = got[r.orderID]; rs[j].Value == 0 {
			rs[j].Err = fmt.Errorf("append a batch of %d: no position for order %s", len(rows), r.orderID)
		}
	}
	return rs
}

// batchArgs lays out the commits as appendBatchSQL's parameters.
func batchArgs(rows []*appendRow) pgx.StrictNamedArgs {
	n := len(rows)
	var (
		orders, customers                     = make([]uuid.UUID, n), make([]uuid.UUID, n)
		expected, itemCounts, versions        = make([]int32, n), make([]int64, n), make([]int32, n)
		metadata, statuses, currencies        = make([]string, n), make([]string, n), make([]string, n)
		items, totals                         = make([]string, n), make([]string, n)
		addresses, trackings, carriers        = make([]*string, n), make([]*string, n), make([]*string, n)
		signatures, reasons, cancelledBys     = make([]*string, n), make([]*string, n), make([]*string, n)
		created, updated                      = make([]time.Time, n), make([]time.Time, n)
		placed, shipped, delivered, cancelled = make([]*time.Time, n), make([]*time.Time, n), make([]*time.Time, n), make([]*time.Time, n)
		principals, keys                      = make([]*string, n), make([]*string, n)
		fingerprints                          = make([][]byte, n)
		ttls                                  = make([]*int64, n)
		erased                                = make([]bool, n)
		eventCommits, eventNumbers            []int32
		eventIDs                              []uuid.UUID
		eventTypes, eventData                 []string
		schemaVersions                        []int16
		occurredAt                            []time.Time
		eventKeys                             []pgtype.UUID
	)
	for i, r := range rows {
		d := &r.row
		orders[i], customers[i], expected[i], metadata[i] = r.orderID, d.CustomerID, int32(r.expected), r.metadata
		statuses[i], currencies[i], items[i], itemCounts[i], totals[i] = d.Status, d.Currency, d.Items, d.ItemCount, d.Total
		addresses[i], trackings[i], carriers[i], signatures[i] = d.ShippingAddress, d.TrackingNumber, d.Carrier, d.Signature
		reasons[i], cancelledBys[i], versions[i], created[i], updated[i] = d.CancelReason, d.CancelledBy, int32(d.Version), d.CreatedAt, d.UpdatedAt
		placed[i], shipped[i], delivered[i], cancelled[i] = d.PlacedAt, d.ShippedAt, d.DeliveredAt, d.CancelledAt
		principals[i], keys[i], fingerprints[i], ttls[i], erased[i] = r.principal, r.key, r.fingerprint, r.ttl, d.Erased
		for k := range r.ids {
			eventCommits, eventNumbers = append(eventCommits, int32(i+1)), append(eventNumbers, int32(k+1))
			eventIDs, eventTypes, eventData = append(eventIDs, r.ids[k]), append(eventTypes, r.types[k]), append(eventData, r.data[k])
			schemaVersions, occurredAt = append(schemaVersions, r.versions[k]), append(occurredAt, r.occurredAt[k])
			eventKeys = append(eventKeys, r.eventKeys[k])
		}
	}
	return pgx.StrictNamedArgs{
		"order_ids": postgres.UUIDs(orders), "expected_versions": expected, "metadata": metadata,
		"customer_ids": postgres.UUIDs(customers), "statuses": statuses, "currencies": currencies, "items": items,
		"item_counts": itemCounts, "totals": totals, "shipping_addresses": addresses,
		"tracking_numbers": trackings, "carriers": carriers, "signatures": signatures,
		"cancel_reasons": reasons, "cancelled_bys": cancelledBys, "versions": versions,
		"created_at": created, "updated_at": updated, "placed_at": placed,
		"shipped_at": shipped, "delivered_at": delivered, "cancelled_at": cancelled,
		"idempotency_principals": principals, "idempotency_keys": keys, "fingerprints": fingerprints,
		"claim_ttls_us": ttls, "erased": erased,
		"event_commits": eventCommits, "event_numbers": eventNumbers, "event_ids": postgres.UUIDs(eventIDs),
		"event_types": eventTypes, "schema_versions": schemaVersions, "event_data": eventData,
		"occurred_at": occurredAt, "personal_keys": eventKeys,
	}
}
