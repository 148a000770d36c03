package app

import (
	"time"

	"github.com/google/uuid"
)

// BrokerCheckpoint is how far a broker stream holds the global feed: the
// last event the stream acknowledged, and that message's place in it.
type BrokerCheckpoint struct {
	// Cursor is the event's place in the feed; zero at the feed's start.
	Cursor FeedCursor
	// Sequence is the stream sequence of the last message: what the next
	// publish expects to follow; 0 on a stream that never held a message.
	Sequence uint64
	// EventID is that message's Nats-Msg-Id, the id of the event it
	// carries: the event at Cursor, unless the stream already held that
	// one (an operator resumed before what it holds). uuid.Nil when
	// unknown or there is no message.
	EventID uuid.UUID
	// Epoch moves with each operator's resume: a relay moves the
	// checkpoint only within the epoch it read.
	Epoch int64
}

// BrokerState is what the store records of a relay's stream.
type BrokerState struct {
	Checkpoint BrokerCheckpoint
	// Taken is false until the relay first recorded a checkpoint.
	Taken bool
	// UpdatedAt is when the checkpoint last moved.
	UpdatedAt time.Time
	// Stopped says why the relay publishes nothing now; nil when it does.
	Stopped *ProjectionStall
}
