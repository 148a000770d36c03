package app

import (
	"fmt"

	"github.com/google/uuid"
)

// ErrEventUnreadable: a stored event cannot be decoded by this build.
// Events are never rewritten, so it is no client's fault and no retry
// helps; operators must run a build that reads it. Readers that need only
// an event's envelope (the feed, an order's history) go on past it, marked
// RecordedEvent.Unreadable; those that need its content stop at it.
var ErrEventUnreadable = &Error{Code: "event_unreadable",
	Message: "a stored event cannot be read by this build of the service"}

// UnreadableEventError names the stored event a reader could not decode.
// It matches ErrEventUnreadable.
type UnreadableEventError struct {
	OrderID uuid.UUID
	Version int
	// EventID and Position are zero where the reader did not read them.
	EventID       uuid.UUID
	Position      int64
	Type          string
	SchemaVersion int
	Err           error
}

func (e *UnreadableEventError) Error() string {
	return fmt.Sprintf("%s: %v", e.Name(), e.Err)
}

// Name says which event it is, in words an operator can look up.
func (e *UnreadableEventError) Name() string {
	s := fmt.Sprintf("event %d of order %s (%s v%d", e.Version, e.OrderID, e.Type, e.SchemaVersion)
	if e.EventID != uuid.Nil {
		s += ", id " + e.EventID.String()
	}
	if e.Position != 0 {
		s += fmt.Sprintf(", position %d", e.Position)
	}
	return s + ")"
}

func (e *UnreadableEventError) Unwrap() error { return e.Err }

// Is makes errors.Is(err, ErrEventUnreadable) hold.
func (e *UnreadableEventError) Is(target error) bool { return target == ErrEventUnreadable }
