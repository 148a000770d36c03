package app

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Polling delays of a query waiting for the analytics projection: short
// after a wake-up (the consumer is about to process the new events), then
// longer, since the consumer may run on another replica and its progress
// sends no wake-up of its own.
const (
	awaitPollMin = 10 * time.Millisecond
	awaitPollMax = 250 * time.Millisecond
)

// awaitAnalytics waits until the analytics projection has processed the
// event at the global position, or s.analyticsWait has passed
// (ErrProjectionLagging). A position not committed yet is waited for too,
// while the read models say a write may still commit it; one they say no
// event has, nor will, is ErrUnknownPosition, as on every read.
//
// Positions are handed out at insert but events commit in another order,
// so the projection's own position says nothing by itself; the event's
// transaction id places it in feed order, where the checkpoint compares.
func (s *Service) awaitAnalytics(ctx context.Context, position int64) error {
	waitCtx, cancel := context.WithTimeout(ctx, s.analyticsWait)
	defer cancel()
	var wake <-chan struct{} // nil never fires: poll only
	if s.wake != nil {
		ch, unsubscribe := s.wake.Subscribe()
		defer unsubscribe()
		wake = ch
	}
	timer := time.NewTimer(awaitPollMax)
	defer timer.Stop()

	var (
		target FeedCursor
		found  bool
		judged bool
		delay  = awaitPollMin
	)
	for {
		done, err := s.analyticsReached(waitCtx, position, &target, &found)
		if err == nil && !found && !judged {
			// The event is not committed: once, ask whether it ever will
			// be. Any other answer (not within their wait) waits on.
			judged = true
			if _, err := s.readModels.Choose(waitCtx, position); errors.Is(err, ErrUnknownPosition) {
				return err
			}
		}
		switch {
		case err != nil && waitCtx.Err() != nil && ctx.Err() == nil:
			return lagging(position, found)
		case err != nil:
			return fmt.Errorf("wait for analytics to reach position %d: %w", position, err)
		case done:
			return nil
		}
		timer.Reset(delay)
		select {
		case <-waitCtx.Done():
			if ctx.Err() != nil {
				return ctx.Err()
			}
			return lagging(position, found)
		case <-wake:
			delay = awaitPollMin
		case <-timer.C:
			delay = min(2*delay, awaitPollMax)
		}
	}
}

// analyticsReached looks up the event's feed cursor until it is found, and
// then compares the projection's checkpoint with it.
func (s *Service) analyticsReached(ctx context.Context, position int64, target *FeedCursor, found *bool) (bool, error) {
	if !*found {
		c, ok, err := s.analytics.EventCursor(ctx, position)
		if err != nil || !ok {
			return false, err
		}
		*target, *found = c, true
	}
	at, err := s.analytics.AnalyticsPosition(ctx)
	if err != nil {
		return false, err
	}
	return !at.Before(*target), nil
}

func lagging(position int64, found bool) error {
	if !found {
		return fmt.Errorf("no committed event at position %d: %w", position, ErrProjectionLagging)
	}
	return fmt.Errorf("event at position %d not processed yet: %w", position, ErrProjectionLagging)
}
