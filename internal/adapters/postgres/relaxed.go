package postgres

import "github.com/jackc/pgx/v5"

// RelaxedBatch starts a batch that runs as one transaction whose commit
// does not wait for its WAL to be flushed: queue the statements, then
// "COMMIT", and send it all in one round trip. It is for writes that may
// be lost to a crash without harm, such as a cache (snapshots) or a hint
// (the announcement of appends): they then cost neither a flush of their
// own nor a place in the queue of commits waiting for one.
func RelaxedBatch() *pgx.Batch {
	b := &pgx.Batch{}
	b.Queue("BEGIN")
	b.Queue("SET LOCAL synchronous_commit TO off")
	return b
}
