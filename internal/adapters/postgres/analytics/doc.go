// Package analytics is the asynchronous analytics projection: a consumer
// of the global feed, run by one replica at a time, that folds daily
// figures per currency, the queries over them, and a recount of the same
// figures from the events to hold the projection to.
//
// The consumer keeps what it knows of each order (a row of
// analytics_orders) in memory while it holds its lock, reads a row only
// when it first meets the order, and writes only what each batch changed,
// in the batch's transaction with the checkpoint's compare-and-set. The
// rows and the checkpoint stay the truth: the memory holds committed
// states only, starts empty with each holding of the lock, and is dropped
// whenever a batch fails or the checkpoint moves under the consumer (a
// reset, another consumer). See docs/design.md, "The analytics
// projection".
package analytics
