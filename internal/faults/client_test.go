//go:build faults

package faults

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"
)

// commandTimeout bounds one command, its retries included: longer than
// any outage the test causes, crash recovery included.
const commandTimeout = 120 * time.Second

// ack is a command the service acknowledged with a 2xx: the order's
// version after it and the global position of its last event.
type ack struct {
	orderID  uuid.UUID
	version  int
	position int64
	what     string
}

// client sends commands the way a careful client does: each with its own
// Idempotency-Key, retried with that key, byte for byte, after a network
// error or a 503, so that a command whose answer was lost is never
// executed twice. It records every acknowledgement, and every answer a
// healthy service must never give.
type client struct {
	base string
	// token is the bearer token sent with every request.
	token string
	http  *http.Client

	sent, acked, retried atomic.Int64
	replayed             atomic.Int64 // acknowledgements marked Idempotent-Replayed
	unknown              atomic.Int64 // answers that a command's outcome is unknown

	mu       sync.Mutex
	acks     []ack
	statuses map[int]int
	wrong    []string // answers that break the contract: 500s, bare 503s
}

func newClient(base, token string) *client {
	return &client{base: base, token: token, http: &http.Client{Timeout: 20 * time.Second}, statuses: map[int]int{}}
}

// newRequest is a request of the client's, with its token.
func (c *client) newRequest(ctx context.Context, method, path string, body io.Reader) (*http.Request, error) {
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, body)
	if err == nil {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	return req, err
}

// command sends a command until the service acknowledges it.
func (c *client) command(ctx context.Context, method, path string, body any) error {
	c.sent.Add(1)
	ctx, cancel := context.WithTimeout(ctx, commandTimeout)
	defer cancel()
	data, err := json.Marshal(body)
	if err != nil {
		return err
	}
	key := uuid.NewString()
	for attempt := 1; ; attempt++ {
		if attempt > 1 {
			c.retried.Add(1)
			select {
			case <-ctx.Done():
				return fmt.Errorf("%s %s: no acknowledgement in %s, %d attempts", method, path, commandTimeout, attempt-1)
			case <-time.After(min(time.Duration(attempt)*50*time.Millisecond, time.Second)):
			}
		}
		req, err := c.newRequest(ctx, method, path, bytes.NewReader(data))
		if err != nil {
			return err
		}
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Idempotency-Key", key)
		resp, err := c.http.Do(req)
		if err != nil {
			continue // the service is down, or went down under the request
		}
		answer, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			continue
		}
		c.count(resp.StatusCode)
		switch {
		case resp.StatusCode/100 == 2:
			a, err := ackOf(resp, answer, method+" "+path)
			if err != nil {
				return err
			}
			c.mu.Lock()
			c.acks = append(c.acks, a)
			c.mu.Unlock()
			c.acked.Add(1)
			if resp.Header.Get("Idempotent-Replayed") == "true" {
				c.replayed.Add(1)
			}
			return nil
		case resp.StatusCode == http.StatusServiceUnavailable:
			c.check503(method+" "+path, resp, answer, "unavailable")
		case resp.StatusCode == http.StatusConflict && problemCode(answer) == "idempotency_key_in_progress":
		case resp.StatusCode == http.StatusInternalServerError && problemCode(answer) == "outcome_unknown":
			// The database died under the append and could not be asked
			// after: the contract says to repeat it with the same key,
			// which replays it if it was recorded, else does it once.
			c.unknown.Add(1)
		default:
			c.fail("%s %s: %d %s", method, path, resp.StatusCode, answer)
			return fmt.Errorf("%s %s: %d %s", method, path, resp.StatusCode, answer)
		}
	}
}

func ackOf(resp *http.Response, body []byte, what string) (ack, error) {
	var doc struct {
		ID      uuid.UUID `json:"id"`
		Version int       `json:"version"`
	}
	if err := json.Unmarshal(body, &doc); err != nil {
		return ack{}, fmt.Errorf("%s: %d answer %s: %w", what, resp.StatusCode, body, err)
	}
	pos, err := strconv.ParseInt(resp.Header.Get("X-Event-Position"), 10, 64)
	if err != nil {
		return ack{}, fmt.Errorf("%s: X-Event-Position %q", what, resp.Header.Get("X-Event-Position"))
	}
	if etag := strconv.Quote(strconv.Itoa(doc.Version)); resp.Header.Get("ETag") != etag {
		return ack{}, fmt.Errorf("%s: ETag %s for version %d", what, resp.Header.Get("ETag"), doc.Version)
	}
	return ack{orderID: doc.ID, version: doc.Version, position: pos, what: what}, nil
}

// check503 holds a 503 to the contract: a problem document with the
// expected code and a Retry-After.
func (c *client) check503(what string, resp *http.Response, body []byte, codes ...string) {
	code := problemCode(body)
	ok := false
	for _, want := range codes {
		ok = ok || code == want
	}
	if !ok || resp.Header.Get("Retry-After") == "" || !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/problem+json") {
		c.fail("%s: 503 with code %q (want one of %v), Retry-After %q, Content-Type %q",
			what, code, codes, resp.Header.Get("Retry-After"), resp.Header.Get("Content-Type"))
	}
}

func problemCode(body []byte) string {
	var p struct {
		Code string `json:"code"`
	}
	_ = json.Unmarshal(body, &p)
	return p.Code
}

func (c *client) lastAck() ack {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.acks[len(c.acks)-1]
}

func (c *client) allAcks() []ack {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]ack(nil), c.acks...)
}

func (c *client) count(status int) {
	c.mu.Lock()
	c.statuses[status]++
	c.mu.Unlock()
}

func (c *client) fail(format string, args ...any) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.wrong) < 50 {
		c.wrong = append(c.wrong, fmt.Sprintf(format, args...))
	}
}

// get reads path into v (when not nil), retrying while the service is
// down or answers 503.
func (c *client) get(ctx context.Context, path string, v any) error {
	ctx, cancel := context.WithTimeout(ctx, commandTimeout)
	defer cancel()
	for {
		req, err := c.newRequest(ctx, "GET", path, nil)
		if err != nil {
			return err
		}
		resp, err := c.http.Do(req)
		if err == nil {
			body, rerr := io.ReadAll(resp.Body)
			resp.Body.Close()
			switch {
			case rerr != nil:
			case resp.StatusCode == http.StatusOK:
				if v == nil {
					return nil
				}
				return json.Unmarshal(body, v)
			case resp.StatusCode != http.StatusServiceUnavailable:
				return fmt.Errorf("GET %s: %d %s", path, resp.StatusCode, body)
			}
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("GET %s: %w (last error %v)", path, ctx.Err(), err)
		case <-time.After(200 * time.Millisecond):
		}
	}
}
