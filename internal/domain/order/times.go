package order

import (
	"fmt"
	"time"
)

// Bounds of every instant orderapi accepts from a client or keeps in an
// event: a delivery time, a time-travel instant, an analytics day, a
// cursor's position. Inside them every instant has a four-digit year in
// UTC and in any offset, so RFC 3339 text, JSON and PostgreSQL all carry
// it unchanged, and nothing a client sends can reach SQL out of range.
var (
	EarliestTime = time.Date(1970, 1, 1, 0, 0, 0, 0, time.UTC)
	LatestTime   = time.Date(9998, 12, 31, 23, 59, 59, 999999000, time.UTC)
)

// MaxClockSkew is how far in the future a client-supplied time of
// something that already happened (a delivery) may lie: clocks of couriers'
// devices and of the service disagree by seconds, not minutes.
const MaxClockSkew = 5 * time.Minute

// CheckTime reports, as a KindInvalid error naming field, an instant
// outside [EarliestTime, LatestTime].
func CheckTime(field string, t time.Time) error {
	if InTimeBounds(t) {
		return nil
	}
	return Invalid(field, FieldOutOfRange, fmt.Sprintf("must be between %s and %s",
		EarliestTime.Format(time.RFC3339), LatestTime.Truncate(time.Second).Format(time.RFC3339)))
}

// InTimeBounds reports whether t lies within [EarliestTime, LatestTime].
func InTimeBounds(t time.Time) bool {
	return !t.Before(EarliestTime) && !t.After(LatestTime)
}

// ClampTime is t brought within [EarliestTime, LatestTime]: the nearest
// bound for an instant outside them.
func ClampTime(t time.Time) time.Time {
	switch {
	case t.Before(EarliestTime):
		return EarliestTime
	case t.After(LatestTime):
		return LatestTime
	}
	return t
}
