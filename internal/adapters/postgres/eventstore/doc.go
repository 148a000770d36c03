// Package eventstore is orderapi's event store over PostgreSQL: Append
// and Load over the events table, time travel, the global feed, the inline
// projections (order_details and customer_orders) written in the same
// statement as their events and the read queries over them, idempotency
// claims and snapshots. Rows are this package's own structs, converted by
// named functions; money travels as exact decimal text. See
// docs/design.md, "The one-statement append" and the sections after it.
package eventstore
