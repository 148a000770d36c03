package metrics

import (
	"testing"
	"time"
)

func TestClockSkewAndDroppedLogLines(t *testing.T) {
	t.Parallel()
	// Given a replica 90s fast whose log output dropped 7 lines
	m := newMetrics(t, Config{
		ClockSkew:       func() time.Duration { return 90 * time.Second },
		LogLinesDropped: func() uint64 { return 7 },
	})

	// When scraped, then both are read as they are
	f := scrape(t, m)
	if got := f.value(t, "orderapi_clock_skew_seconds"); got != 90 {
		t.Errorf("clock skew = %v, want 90", got)
	}
	if got := f.value(t, "orderapi_log_lines_dropped_total"); got != 7 {
		t.Errorf("dropped log lines = %v, want 7", got)
	}
}

func TestRateLimitFailures(t *testing.T) {
	t.Parallel()
	// Given a shared rate limiter that could not decide 3 requests
	m := newMetrics(t, Config{RateLimitFailures: func() uint64 { return 3 }})
	// When scraped, then they are counted
	if got := scrape(t, m).value(t, "orderapi_rate_limit_failures_total"); got != 3 {
		t.Errorf("rate limit failures = %v, want 3", got)
	}
	// and without a shared limiter there is no such series
	if _, ok := scrape(t, newMetrics(t, Config{}))["orderapi_rate_limit_failures_total"]; ok {
		t.Error("a process without a shared limiter reports its failures")
	}
}
