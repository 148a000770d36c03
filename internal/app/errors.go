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
	// ErrConflict: other writers kept changing the order and the command
	// gave up after its retries.
	ErrConflict = &Error{Code: "version_conflict", Message: "the order was changed concurrently; retry"}
	// ErrPreconditionFailed: the order's version is not the one the client
	// expected (If-Match).
	ErrPreconditionFailed = &Error{Code: "precondition_failed", Message: "the order's version does not match the expected version"}
	// ErrExists: an order with the requested id already exists.
	ErrExists = &Error{Code: "order_exists", Message: "an order with this id already exists"}
)

// ErrVersionConflict is what an EventStore returns (possibly wrapped) when
// the stream's version is not the expected one at append time. Nothing was
// written.
var ErrVersionConflict = errors.New("stream version conflict")

// ErrUnavailable: the store cannot be reached right now (connection
// refused or lost, server shutting down). Nothing is known to be written;
// the client may retry.
var ErrUnavailable = &Error{Code: "unavailable", Message: "the database is unavailable; retry later"}

// ErrProjectionLagging: an asynchronous projection has not processed the
// event the client asked it to include, within the wait; retry shortly.
var ErrProjectionLagging = &Error{Code: "projection_lagging", Message: "the projection has not processed the requested event yet; retry later"}
