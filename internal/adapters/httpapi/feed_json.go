package httpapi

import (
	"github.com/orderapi/orderapi/internal/adapters/cursor"
	"github.com/orderapi/orderapi/internal/app"
)

// feedPageJSON is a page of the global feed. NextCursor is always set:
// after the page's last event, or the cursor asked for when the page is
// empty, so that a poller can keep passing it back.
type feedPageJSON struct {
	Events     []feedEventJSON `json:"events"`
	NextCursor string          `json:"next_cursor"`
}

// feedEventJSON is an event of the global feed: an order's event, with the
// order named. It is also the data of a live feed's messages.
type feedEventJSON struct {
	OrderID string `json:"order_id"`
	eventJSON
}

func toFeedPageJSON(p app.FeedPage, cursors *cursor.Signer) feedPageJSON {
	doc := feedPageJSON{Events: make([]feedEventJSON, len(p.Events)), NextCursor: encodeFeedCursor(cursors, p.Next)}
	for i, e := range p.Events {
		doc.Events[i] = toFeedEventJSON(e)
	}
	return doc
}

func toFeedEventJSON(e app.RecordedEvent) feedEventJSON {
	return feedEventJSON{OrderID: e.OrderID.String(), eventJSON: toEventJSON(e)}
}
