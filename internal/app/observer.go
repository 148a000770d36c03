package app

import (
	"errors"

	"github.com/orderapi/orderapi/internal/domain/order"
)

// Outcome is how a command ended, in the few classes an operator watches.
type Outcome string

// The outcomes of a command.
const (
	// OutcomeOK: the command's events were appended.
	OutcomeOK Outcome = "ok"
	// OutcomeReplayed: its idempotency key had been claimed by an identical
	// request; that request's answer was given again, nothing written.
	OutcomeReplayed Outcome = "replayed"
	// OutcomeRejected: a rule of the order's life forbids the command now
	// (order.KindRule), or the order to create exists already.
	OutcomeRejected Outcome = "rejected"
	// OutcomeInvalid: the input is unacceptable whatever the state
	// (order.KindInvalid), or an idempotency key was reused for another
	// request.
	OutcomeInvalid Outcome = "invalid"
	// OutcomeNotFound: the order does not exist.
	OutcomeNotFound Outcome = "not_found"
	// OutcomePreconditionFailed: the order is not at the expected version.
	OutcomePreconditionFailed Outcome = "precondition_failed"
	// OutcomeConflict: other writers kept winning until the retries ran
	// out, or a request with the same idempotency key is still running.
	OutcomeConflict Outcome = "conflict"
	// OutcomeError: anything else, such as a failing store or a request
	// that ended (timeout, client gone) before the command did.
	OutcomeError Outcome = "error"
)

// Observer is told how every command ends and what it appended, for
// monitoring. It is called on the command's goroutine, so it must be quick
// and safe for concurrent use.
type Observer interface {
	// CommandDone reports a finished command by name (such as "add_item"),
	// with the number of times it was retried after losing a race.
	CommandDone(command string, outcome Outcome, retries int)
	// EventsAppended reports events just committed.
	EventsAppended(events []NewEvent)
	// StateUsed reports where an attempt of a command found the order's
	// state: kept from this process's last command on it, or loaded; and
	// each kept state found behind, after which the command was decided
	// again on a loaded one.
	StateUsed(source StateSource)
}

// StateSource is where a command's attempt found the order's state.
type StateSource string

// The sources of a command's state.
const (
	// StateCached: the state this process's last command on the order
	// left; see Config.StateCacheSize.
	StateCached StateSource = "cache"
	// StateLoaded: loaded from the event store.
	StateLoaded StateSource = "store"
	// StateStale: a cached state turned out to be behind (another process
	// had appended), or a command failed on it; the command was decided
	// again on a loaded state, counted as StateLoaded too.
	StateStale StateSource = "stale"
)

type noObserver struct{}

func (noObserver) CommandDone(string, Outcome, int) {}
func (noObserver) EventsAppended([]NewEvent)        {}
func (noObserver) StateUsed(StateSource)            {}

// outcomeOf classifies a command's result.
func outcomeOf(res Result, err error) Outcome {
	if err == nil {
		if res.Replayed {
			return OutcomeReplayed
		}
		return OutcomeOK
	}
	var oe *order.Error
	if errors.As(err, &oe) {
		switch oe.Kind {
		case order.KindInvalid:
			return OutcomeInvalid
		case order.KindRule:
			return OutcomeRejected
		case order.KindNotFound:
			return OutcomeNotFound
		}
	}
	switch {
	case errors.Is(err, ErrExists):
		return OutcomeRejected
	case errors.Is(err, ErrIdempotencyKeyReused):
		return OutcomeInvalid
	case errors.Is(err, ErrPreconditionFailed):
		return OutcomePreconditionFailed
	case errors.Is(err, ErrRetriesExhausted), errors.Is(err, ErrIdempotencyKeyInProgress):
		return OutcomeConflict
	}
	return OutcomeError
}
