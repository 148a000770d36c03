package httpapi

import (
	"encoding/json"
	"fmt"

	"github.com/orderapi/orderapi/internal/adapters/cursor"
	"github.com/orderapi/orderapi/internal/adapters/httpapi/access"
	"github.com/orderapi/orderapi/internal/adapters/httpapi/livefeed"
	"github.com/orderapi/orderapi/internal/app"
	"github.com/orderapi/orderapi/internal/feedhub"
	"github.com/rs/zerolog"
)

// feedMessages makes events' messages: the id the cursor after the event,
// signed with cursors, the name the event's type, the data the FeedEvent
// as one line (JSON as encoding/json writes it has no newline). Each
// event's message is made once and shared by every stream (see
// feedhub.Event.Encoded).
func feedMessages(cursors *cursor.Signer) func(app.RecordedEvent) ([]byte, error) {
	return func(e app.RecordedEvent) ([]byte, error) {
		return encodeFeedMessage(cursors, e)
	}
}

func encodeFeedMessage(cursors *cursor.Signer, e app.RecordedEvent) ([]byte, error) {
	data, err := json.Marshal(toFeedEventJSON(e))
	if err != nil {
		return nil, fmt.Errorf("encode event %s: %w", e.EventID, err)
	}
	id := encodeFeedCursor(cursors, app.CursorOf(e))
	msg := make([]byte, 0, len("id: \nevent: \ndata: \n\n")+len(id)+len(e.Type)+len(data))
	msg = append(append(append(msg, "id: "...), id...), "\nevent: "...)
	msg = append(append(append(msg, e.Type...), "\ndata: "...), data...)
	return append(msg, "\n\n"...), nil
}

// newLiveFeed takes the live feed's settings from the configuration, whose
// RequestTimeout is already set. Without a Feed it makes a hub of its own
// that polls the service every second.
func newLiveFeed(svc *app.Service, log zerolog.Logger, cfg Config) (*livefeed.Feed, error) {
	hub := cfg.Feed
	if hub == nil {
		var err error
		if hub, err = feedhub.New(svc, log, feedhub.Config{ReadTimeout: cfg.RequestTimeout}); err != nil {
			return nil, err
		}
	}
	lf, err := livefeed.New(livefeed.Config{Hub: hub, Streams: cfg.FeedStreams, StreamsPerClient: cfg.FeedStreamsPerClient,
		Client: access.Caller, Heartbeat: cfg.FeedHeartbeat, Closing: cfg.Closing, Encode: feedMessages(cfg.Cursors)})
	if err != nil {
		return nil, fmt.Errorf("httpapi: %w", err)
	}
	return lf, nil
}
