// Package app holds orderapi's use cases. Each command loads an order's
// stream, lets the domain decide, and appends the resulting events together
// with the inline projections in one transaction of the store; each query
// reads a projection or the event store.
//
// The package declares the storage interfaces it needs and knows nothing of
// HTTP or SQL.
package app
