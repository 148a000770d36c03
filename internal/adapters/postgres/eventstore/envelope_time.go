package eventstore

import (
	"errors"
	"time"

	"github.com/jackc/pgx/v5/pgtype"
	"github.com/orderapi/orderapi/internal/domain/order"
)

// envelopeTime scans an event's occurred_at or recorded_at whatever it
// holds, so that one event cannot fail the page it is read in. The events
// table refuses times outside the domain's bounds (events_times_check),
// but a row inserted by hand before it did may hold infinity, which
// time.Time cannot, or a year this service never writes; such a time
// scans to one outside order.InTimeBounds, and the readers treat its
// event as unreadable (see inBounds).
type envelopeTime struct{ t *time.Time }

// beyondBounds stands for an infinite time: after the latest instant the
// domain accepts, or before its earliest.
var (
	pastLatest     = order.LatestTime.Add(time.Second)
	beforeEarliest = order.EarliestTime.Add(-time.Second)
)

func (e envelopeTime) ScanTimestamptz(v pgtype.Timestamptz) error {
	switch v.InfinityModifier {
	case pgtype.Infinity:
		*e.t = pastLatest
	case pgtype.NegativeInfinity:
		*e.t = beforeEarliest
	default:
		*e.t = v.Time.UTC()
	}
	return nil
}

// errTimeOutOfBounds is why an event whose envelope holds such a time is
// unreadable.
var errTimeOutOfBounds = errors.New("its occurred_at or recorded_at lies outside the times this service writes")
