//go:build faults

package faults

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"
)

// liveReader follows the live feed (server-sent events) as an EventSource
// does: when the stream ends, for whatever reason, it reconnects with the
// id of the last event it received in Last-Event-ID.
type liveReader struct {
	c *client

	mu       sync.Mutex
	eventIDs []string // in the order received
	lastID   string
	streams  int // streams opened
}

func (lr *liveReader) run(ctx context.Context) {
	hc := &http.Client{} // a stream has no time limit; ctx ends it
	for ctx.Err() == nil {
		req, _ := lr.c.newRequest(ctx, "GET", "/v1/events", nil)
		req.Header.Set("Accept", "text/event-stream")
		lr.mu.Lock()
		if lr.lastID != "" {
			req.Header.Set("Last-Event-ID", lr.lastID)
		}
		lr.mu.Unlock()
		resp, err := hc.Do(req)
		if err == nil {
			lr.read(resp)
		}
		select {
		case <-ctx.Done():
		case <-time.After(200 * time.Millisecond):
		}
	}
}

func (lr *liveReader) read(resp *http.Response) {
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		body, _ := io.ReadAll(resp.Body)
		lr.c.count(resp.StatusCode)
		if resp.StatusCode == http.StatusServiceUnavailable {
			lr.c.check503("live feed", resp, body, "unavailable")
		} else {
			lr.c.fail("live feed: %d %s", resp.StatusCode, body)
		}
		return
	}
	lr.mu.Lock()
	lr.streams++
	lr.mu.Unlock()
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), 4<<20)
	var id, data string
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "id: "):
			id = strings.TrimPrefix(line, "id: ")
		case strings.HasPrefix(line, "data: "):
			data = strings.TrimPrefix(line, "data: ")
		case line == "" && data != "":
			var e struct {
				EventID string `json:"event_id"`
			}
			if err := json.Unmarshal([]byte(data), &e); err != nil {
				lr.c.fail("live feed: message %q: %v", data, err)
				return
			}
			lr.mu.Lock()
			lr.eventIDs, lr.lastID = append(lr.eventIDs, e.EventID), id
			lr.mu.Unlock()
			id, data = "", ""
		}
	}
}

func (lr *liveReader) received() (ids []string, streams int) {
	lr.mu.Lock()
	defer lr.mu.Unlock()
	return append([]string(nil), lr.eventIDs...), lr.streams
}
