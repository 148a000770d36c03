// Package postgres is orderapi's PostgreSQL adapter: the event store (Load
// and Append over the events table), the event codec that turns domain
// events into versioned JSON and back, the inline projections
// (order_details and customer_orders) written in the same statement as the
// events they follow, and the read queries over them; and the asynchronous
// analytics projection (Analytics): its consumer of the global feed, elected
// among replicas by an advisory lock, and its queries.
//
// Domain types never meet the database directly: rows and JSON shapes are
// this package's own structs, converted by named functions, and money
// travels as exact decimal text, never as a float.
package postgres
