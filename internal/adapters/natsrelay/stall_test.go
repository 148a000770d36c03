package natsrelay_test

import (
	"context"
	"testing"
	"time"

	"github.com/google/uuid"
)

// TestStopsBeforeAnUnreadableEvent: the relay publishes up to an event
// this build cannot decode, stops there and reports it, and publishes
// nothing after it.
func TestStopsBeforeAnUnreadableEvent(t *testing.T) {
	t.Parallel()
	// Given 2 events, then one this build cannot decode, then 2 more
	f := newFixture(t)
	f.orders(1, 1)
	bad := uuid.New()
	if _, err := f.pool.Exec(context.Background(), `
INSERT INTO events (event_id, stream_id, stream_version, event_type, schema_version, data, occurred_at)
VALUES (gen_random_uuid(), $1::uuid, 1, 'OrderCreated', 2, jsonb_build_object('order_id', $1::uuid::text, 'customer_id', 'nobody', 'currency', 'USD'), now())`,
		bad); err != nil {
		t.Fatal(err)
	}
	f.orders(1, 1)
	all := f.feed(5)
	if !all[2].Unreadable {
		t.Fatalf("event 3 of the feed is readable: %+v", all[2])
	}

	// When the relay runs
	r, _ := f.start(f.config(), f.lock(0))

	// Then it publishes the first 2, reports the stall at the third, and
	// publishes no more
	f.sameAsFeed(f.stream(2), all[:2])
	for deadline := time.Now().Add(wait); ; time.Sleep(20 * time.Millisecond) {
		st, _ := r.Stalled(context.Background())
		if st != nil && st.EventID == all[2].EventID && st.Position == all[2].Position {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("stalled: %+v, want before event %s", st, all[2].EventID)
		}
	}
	time.Sleep(300 * time.Millisecond)
	f.sameAsFeed(f.stream(2), all[:2])
	if st, err := r.Progress(context.Background()); err != nil || st.Stalled == nil || st.Stalled.Code != "event_unreadable" || st.LagEvents != 3 {
		t.Errorf("progress %+v, %v; want stalled (event_unreadable), 3 events behind", st, err)
	}
}
