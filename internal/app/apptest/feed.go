package apptest

import (
	"context"
	"testing"
	"time"

	"github.com/orderapi/orderapi/internal/app"
)

// Feed reads the whole global feed from its start, page by page, until it
// holds n events, failing t if it does not within wait.
func Feed(t testing.TB, svc *app.Service, n int, wait time.Duration) []app.RecordedEvent {
	t.Helper()
	var got []app.RecordedEvent
	var after app.FeedCursor
	for deadline := time.Now().Add(wait); len(got) < n; {
		page, err := svc.Feed(context.Background(), app.FeedQuery{After: after, Limit: app.MaxFeedPage})
		if err != nil {
			t.Fatal(err)
		}
		got, after = append(got, page.Events...), page.Next
		if len(page.Events) == 0 {
			if time.Now().After(deadline) {
				t.Fatalf("the feed holds %d events, want %d", len(got), n)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	return got
}
