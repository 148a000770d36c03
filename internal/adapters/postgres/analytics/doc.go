// Package analytics is the asynchronous analytics projection: a consumer
// of the global feed, run by one replica at a time, that folds daily
// figures per currency, the queries over them, and a recount of the same
// figures from the events to hold the projection to. See docs/design.md,
// "The analytics projection".
package analytics
