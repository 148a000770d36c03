package feedhub

import (
	"context"
	"errors"
	"time"

	"github.com/orderapi/orderapi/internal/app"
)

// run is the tailer: it reads the feed after the tail, hands each page to
// every joined subscription, and reads again at once if the page was
// full, else when woken, poked or polled. It returns when no subscription
// is left, forgetting the tail, or when the Hub closes.
func (h *Hub) run() {
	defer h.wg.Done()
	var wake <-chan struct{} // nil, which never fires, leaves polling alone
	if h.cfg.Wake != nil {
		ch, cancel := h.cfg.Wake.Subscribe()
		defer cancel()
		wake = ch
	}
	timer := time.NewTimer(h.cfg.Poll)
	defer timer.Stop()
	follow := app.NewFeedFollower(h.cfg.Poll, false)
	for {
		after, gen, ok := h.next()
		if !ok {
			return
		}
		n, err := h.readTail(after, gen)
		if errors.Is(err, errTailMoved) {
			continue
		}
		if n == h.cfg.Page {
			continue
		}
		timer.Reset(follow.Wait(err == nil && n == 0))
		select {
		case <-h.ctx.Done():
			return
		case <-wake:
			follow.Woken()
		case <-h.kick:
			// A subscription joined or left: look now, without the quick
			// second looks of a wake-up (a joiner has just read itself).
		case <-timer.C:
		}
	}
}

// next returns where the tailer reads next, or ok false when it must
// stop: no subscription is left (the tail is then forgotten, since no one
// will move it back to where a later subscriber starts) or the Hub closed.
func (h *Hub) next() (after app.FeedCursor, gen uint64, ok bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if len(h.live) == 0 || h.closed {
		h.running, h.hasTail = false, false
		return app.FeedCursor{}, 0, false
	}
	return h.tail, h.gen, true
}

// errTailMoved: the tail changed during a read; its page is not the one
// that follows the tail.
var errTailMoved = errors.New("feedhub: tail moved during the read")

// readTail reads the page after the tail and delivers it, unless the tail
// moved meanwhile. A failure is logged and retried at the next look; one
// that is not the database being away also ends every joined
// subscription, whose consumers report it.
func (h *Hub) readTail(after app.FeedCursor, gen uint64) (int, error) {
	page, err := h.read(h.ctx, after)
	h.mu.Lock()
	defer h.mu.Unlock()
	switch {
	case h.gen != gen:
		return 0, errTailMoved
	case err != nil && transient(err):
		h.log.Warn().Err(err).Msg("reading the live feed's tail failed; retrying")
		return 0, err
	case err != nil:
		for s := range h.live {
			s.end(err)
		}
		clear(h.live)
		return 0, err
	}
	events := newEvents(page.Events)
	for s := range h.live {
		if !s.offer(events, page.Next) {
			delete(h.live, s)
			h.log.Info().Msg("live feed subscriber dropped: it fell too far behind")
		}
	}
	h.tail = page.Next
	return len(page.Events), nil
}

// read reads a page of the feed after the cursor, bounded by ReadTimeout.
func (h *Hub) read(ctx context.Context, after app.FeedCursor) (app.FeedPage, error) {
	ctx, cancel := context.WithTimeout(ctx, h.cfg.ReadTimeout)
	defer cancel()
	return h.feed.Feed(ctx, app.FeedQuery{After: after, Limit: h.cfg.Page})
}

// catchUp reads a page for one subscription behind the tail, waiting for
// one of the CatchUps tokens first, within the same ReadTimeout.
func (h *Hub) catchUp(ctx context.Context, after app.FeedCursor, minPosition int64) (app.FeedPage, error) {
	ctx, cancel := context.WithTimeout(ctx, h.cfg.ReadTimeout)
	defer cancel()
	select {
	case h.catchUps <- struct{}{}:
		defer func() { <-h.catchUps }()
	case <-ctx.Done():
		return app.FeedPage{}, ctx.Err()
	case <-h.ctx.Done():
		return app.FeedPage{}, ErrClosed
	}
	return h.feed.Feed(ctx, app.FeedQuery{After: after, Limit: h.catchUpPage, MinPosition: minPosition})
}

// transient reports an error that a later read may not meet: the
// database away, or a read that ran out of time.
func transient(err error) bool {
	return errors.Is(err, app.ErrUnavailable) || errors.Is(err, context.DeadlineExceeded)
}
