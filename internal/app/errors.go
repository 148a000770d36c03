package app

import "errors"

// Error is an application-level failure with a stable, machine-readable
// Code. Domain rule and validation errors are *order.Error instead.
type Error struct {
	Code    string
	Message string
}

func (e *Error) Error() string { return e.Message }

// Is matches on the code, so a wrapped or re-worded error still matches its
// sentinel.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Code == e.Code
}

var (
	// ErrRetriesExhausted is a command's answer when other writers kept
	// changing the order and the command gave up after Config.MaxAttempts
	// tries, each on fresh state. It reaches the client (code
	// version_conflict); it is not ErrAppendConflict, the store's signal
	// that one append lost, which the Service retries.
	ErrRetriesExhausted = &Error{Code: "version_conflict", Message: "the order was changed concurrently; retry"}
	// ErrPreconditionFailed: the order's version is not the one the client
	// expected (If-Match).
	ErrPreconditionFailed = &Error{Code: "precondition_failed", Message: "the order's version does not match the expected version"}
	// ErrExists: an order with the requested id already exists.
	ErrExists = &Error{Code: "order_exists", Message: "an order with this id already exists"}
)

// ErrAppendConflict is what an EventStore returns (possibly wrapped) when
// the stream's version is not the expected one at append time; nothing was
// written. The Service retries it on fresh state, or answers it as
// ErrPreconditionFailed, ErrExists or ErrRetriesExhausted: it never
// reaches a client as itself.
var ErrAppendConflict = errors.New("stream version conflict")

// ErrUnavailable: the store cannot be reached right now (connection
// refused or lost, server shutting down). Nothing is known to be written;
// the client may retry.
var ErrUnavailable = &Error{Code: "unavailable", Message: "the database is unavailable; retry later"}

// ErrReadOnly: the database takes no writes now: it is read-only
// (default_transaction_read_only) or a hot standby. Nothing was written;
// the client may retry once it is the writable primary again.
var ErrReadOnly = &Error{Code: "database_read_only", Message: "the database accepts no writes right now (read-only, or a standby); nothing was written; retry later"}

// ErrOutcomeUnknown: a command's events were sent to the database, and
// whether they were committed could not be learnt. It must never be taken
// for "not done": the client reads the order, or repeats the request with
// the same Idempotency-Key, which then either replays the first answer or
// does the work once.
var ErrOutcomeUnknown = &Error{Code: "outcome_unknown", Message: "the command was sent to the database and whether it was recorded is unknown: " +
	"read the order before repeating it, or repeat it with the same Idempotency-Key"}

// ErrProjectionLagging: an asynchronous projection has not processed the
// event the client asked it to include, within the wait; retry shortly.
var ErrProjectionLagging = &Error{Code: "projection_lagging", Message: "the projection has not processed the requested event yet; retry later"}

// ErrPositionNotReached is ErrProjectionLagging (its code) for a read of
// orders or events with a min_position: no database has the event at
// that position yet, as committed on the primary or replayed on a standby.
var ErrPositionNotReached = &Error{Code: ErrProjectionLagging.Code,
	Message: "the databases have not reached the requested event position yet (it is not committed, or not replayed); retry later"}

// ErrUnknownPosition: no event has the position a read's min_position
// names, and no write that could still commit one there is running: the
// position is beyond every event written, or the write it was handed to
// rolled back (positions are never used again). No retry helps: no
// command that succeeded answered with it.
var ErrUnknownPosition = &Error{Code: "unknown_position",
	Message: "no event has the requested position, and no write running may give it one; pass back the X-Event-Position of a command that succeeded"}
