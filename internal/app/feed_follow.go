package app

import "time"

// settleFirst is the first delay of a follower's quick second looks.
const settleFirst = 20 * time.Millisecond

// FeedFollower decides when a reader that follows the global feed (a live
// feed's tail, the analytics consumer) reads next. It reads at once after
// a full page, else at the next wake-up or after Poll. Right after a
// wake-up, or its start, a read that found nothing proves little: what
// committed just before may not be readable yet while an older write
// transaction still runs (see FeedCursor), and no wake-up comes when that
// one ends unless it appended too. So such a read is repeated soon, at
// doubling delays from 20 ms, until one finds something or the delay
// reaches Poll.
type FeedFollower struct {
	poll   time.Duration
	settle time.Duration // 0: no quick looks pending
}

// NewFeedFollower returns a follower that polls every poll; settled
// reports whether it starts without quick looks.
func NewFeedFollower(poll time.Duration, settled bool) *FeedFollower {
	f := &FeedFollower{poll: poll}
	if !settled {
		f.settle = settleFirst
	}
	return f
}

// Wait is how long to wait for a wake-up before the next read, after one
// that found nothing (empty) or something short of a full page.
func (f *FeedFollower) Wait(empty bool) time.Duration {
	if f.settle > 0 && empty && f.settle < f.poll {
		wait := f.settle
		f.settle *= 2
		return wait
	}
	f.settle = 0
	return f.poll
}

// Woken notes a wake-up: the reads after it look again soon.
func (f *FeedFollower) Woken() { f.settle = settleFirst }
