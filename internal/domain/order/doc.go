// Package order is the Order aggregate of orderapi: its state, the events
// that are the only source of that state, and the rules that decide which
// events a command may record.
//
// Commands decide and events change state. A command method (AddItem,
// Place, ...) checks the rules against the current state and returns the
// events to record, or an *Error with a stable code; it never changes the
// Order. Apply folds one event into the state, with no checks, both when a
// stream is replayed from the store and right after a command decided.
//
// The package does no I/O and knows nothing of HTTP or SQL.
package order
