// Package ratelimit counts requests against token buckets, one per key: in
// the process's memory (Memory), or in Redis (Redis), shared by every
// replica that uses the same server.
//
// Both run the same algorithm, the generic cell rate algorithm: a bucket
// is one number, the time at which it is full again, so that a request
// costs one read and one write and an idle bucket needs no state at all.
// Times are whole microseconds, in Go and in the Redis script alike, so
// that the two decide exactly the same.
package ratelimit

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Rate is a token bucket: Burst requests may come at once, and the bucket
// refills at Limit requests per Per, which is also the most a caller can
// keep up.
type Rate struct {
	Limit int
	// Per is a second, a minute or an hour.
	Per   time.Duration
	Burst int
}

// maxCount bounds Limit and Burst: a bucket's times stay whole
// microseconds (a million a second at most) and below 2^53, which Redis's
// Lua numbers hold exactly.
const maxCount = 1_000_000

var units = []struct {
	name string
	per  time.Duration
}{{"s", time.Second}, {"m", time.Minute}, {"h", time.Hour}}

// ParseRate reads a rate written "<limit>/<unit>" or "<limit>/<unit> burst
// <n>", the unit being s, m or h (per second, minute or hour): "50/s burst
// 100". Without a burst, it is the limit: a unit's worth at once.
func ParseRate(s string) (Rate, error) {
	const want = `want "<limit>/<s|m|h>" or "<limit>/<s|m|h> burst <n>", such as "50/s burst 100"`
	f := strings.Fields(s)
	if len(f) != 1 && (len(f) != 3 || f[1] != "burst") {
		return Rate{}, errors.New(want)
	}
	count, unit, ok := strings.Cut(f[0], "/")
	if !ok {
		return Rate{}, errors.New(want)
	}
	var r Rate
	for _, u := range units {
		if u.name == unit {
			r.Per = u.per
		}
	}
	if r.Per == 0 {
		return Rate{}, fmt.Errorf("unit %q: %s", unit, want)
	}
	var err error
	if r.Limit, err = strconv.Atoi(count); err != nil {
		return Rate{}, fmt.Errorf("limit %q: %s", count, want)
	}
	r.Burst = r.Limit
	if len(f) == 3 {
		if r.Burst, err = strconv.Atoi(f[2]); err != nil {
			return Rate{}, fmt.Errorf("burst %q: %s", f[2], want)
		}
	}
	return r, r.Validate()
}

// Validate says what is wrong with r, if anything.
func (r Rate) Validate() error {
	switch {
	case r.Per != time.Second && r.Per != time.Minute && r.Per != time.Hour:
		return fmt.Errorf("per %s: want a second, a minute or an hour", r.Per)
	case r.Limit < 1 || r.Limit > maxCount:
		return fmt.Errorf("limit %d: want 1 to %d", r.Limit, maxCount)
	case r.Burst < 1 || r.Burst > maxCount:
		return fmt.Errorf("burst %d: want 1 to %d", r.Burst, maxCount)
	}
	return nil
}

// String writes r as ParseRate reads it.
func (r Rate) String() string {
	unit := "?"
	for _, u := range units {
		if u.per == r.Per {
			unit = u.name
		}
	}
	return fmt.Sprintf("%d/%s burst %d", r.Limit, unit, r.Burst)
}

// interval is how long the bucket takes to regain one request, in
// microseconds; capacity how long it takes to refill from empty.
func (r Rate) interval() int64 { return r.Per.Microseconds() / int64(r.Limit) }
func (r Rate) capacity() int64 { return r.interval() * int64(r.Burst) }

// Decision is a limiter's answer to one request.
type Decision struct {
	// Allowed says whether the request may proceed; it used up a token.
	Allowed bool
	// RetryAfter, for a refused request, is how long until one would be
	// allowed.
	RetryAfter time.Duration
}

// admit decides one request at now on a bucket that is full again at
// fullAt (full already when that is not after now), and returns the
// bucket's new fullAt. The Redis script (gcra.lua) is the same steps.
func (r Rate) admit(fullAt, now int64) (int64, Decision) {
	next := max(fullAt, now) + r.interval()
	if debt := next - now; debt > r.capacity() {
		return fullAt, Decision{RetryAfter: time.Duration(debt-r.capacity()) * time.Microsecond}
	}
	return next, Decision{Allowed: true}
}
