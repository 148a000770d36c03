// Package bulkload fills an event store with many orders at PostgreSQL's
// speed, for measuring orderapi at the size of a long-lived shop.
//
// Every history is decided by the order aggregate itself (create, add and
// remove items, place, ship, deliver, cancel, as the state machine
// allows), encoded by the store's codec with the metadata of a principal
// of the loader's own, and written with COPY in large batches; the
// inline projections get the rows an append of each order's final state
// would have left. The events of all orders are interleaved by the time
// they occurred, one batch per transaction, the transactions' ids taken in
// batch order: the global feed, ordered by (transaction_id, position),
// reads back the shop's life in order, and each order's positions rise
// with its versions, as appends make them.
package bulkload
