//go:build faults

package faults

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"time"
)

// probeOutage asks every endpoint that needs the database, and the two
// health endpoints, again and again while the database is down, until
// stop closes. Each must answer at once: 503 unavailable with Retry-After
// (readiness: 503 not_ready), and liveness 200. It returns how many
// answers it checked.
func probeOutage(ctx context.Context, c *client, a ack, customer string, stop <-chan struct{}) int {
	today := time.Now().UTC()
	paths := []string{
		"/v1/orders/" + a.orderID.String(),
		"/v1/orders/" + a.orderID.String() + "?version=1",
		"/v1/orders/" + a.orderID.String() + "/events",
		"/v1/customers/" + customer + "/orders",
		"/v1/events?limit=10",
		fmt.Sprintf("/v1/analytics/daily?from=%s&to=%s&min_position=%d",
			today.AddDate(0, 0, -1).Format(time.DateOnly), today.Format(time.DateOnly), a.position),
		"/v1/projections",
	}
	hc := &http.Client{Timeout: 20 * time.Second}
	checked := 0
	for {
		for _, path := range append(paths, "/readyz", "/healthz") {
			select {
			case <-stop:
				return checked
			default:
			}
			req, _ := c.newRequest(ctx, "GET", path, nil)
			start := time.Now()
			resp, err := hc.Do(req)
			if err != nil {
				c.fail("GET %s while the database is down: %v", path, err)
				continue
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			c.count(resp.StatusCode)
			checked++
			if took := time.Since(start); took > 10*time.Second {
				c.fail("GET %s while the database is down took %s", path, took.Round(time.Millisecond))
			}
			switch {
			case path == "/healthz":
				if resp.StatusCode != http.StatusOK {
					c.fail("GET /healthz while the database is down: %d %s", resp.StatusCode, body)
				}
			case resp.StatusCode != http.StatusServiceUnavailable:
				c.fail("GET %s while the database is down: %d %s", path, resp.StatusCode, body)
			case path == "/readyz":
				c.check503(path, resp, body, "not_ready")
			default:
				c.check503("GET "+path+" while the database is down", resp, body, "unavailable")
			}
		}
		select {
		case <-stop:
			return checked
		case <-time.After(100 * time.Millisecond):
		}
	}
}
