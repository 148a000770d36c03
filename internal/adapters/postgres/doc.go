// Package postgres is the small base every PostgreSQL adapter of orderapi
// shares: how driver errors map to app errors (MarkUnavailable), named
// parameters rewritten once (Positional), uuids passed as bytes, batches
// that commit without waiting for the WAL, the single-active Lock and the
// wait for a database to answer. The adapters themselves are its
// subpackages: eventstore, codec, snapshot, schema, notify, analytics and
// projections. See docs/design.md, "Packages".
package postgres
