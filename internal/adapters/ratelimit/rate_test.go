package ratelimit

import (
	"strings"
	"testing"
	"time"
)

func TestParseRate(t *testing.T) {
	t.Parallel()
	good := []struct {
		in   string
		want Rate
	}{
		{"50/s burst 100", Rate{Limit: 50, Per: time.Second, Burst: 100}},
		{"  200/s   burst 400 ", Rate{Limit: 200, Per: time.Second, Burst: 400}},
		{"50/s", Rate{Limit: 50, Per: time.Second, Burst: 50}},
		{"600/m burst 20", Rate{Limit: 600, Per: time.Minute, Burst: 20}},
		{"1000/h", Rate{Limit: 1000, Per: time.Hour, Burst: 1000}},
		{"1000000/s burst 1", Rate{Limit: 1_000_000, Per: time.Second, Burst: 1}},
	}
	for _, g := range good {
		got, err := ParseRate(g.in)
		if err != nil || got != g.want {
			t.Errorf("ParseRate(%q) = %+v, %v; want %+v", g.in, got, err, g.want)
		}
		if back, err := ParseRate(got.String()); err != nil || back != got {
			t.Errorf("%q written as %q reads back as %+v, %v", g.in, got.String(), back, err)
		}
	}
	bad := map[string]string{
		"":                 "want",
		"50":               "want",
		"50/d":             `unit "d"`,
		"50 per second":    "want",
		"x/s":              `limit "x"`,
		"0/s":              "limit 0",
		"-5/s":             "limit -5",
		"1000001/s":        "limit 1000001",
		"50/s burst":       "want",
		"50/s burst 0":     "burst 0",
		"50/s burst x":     `burst "x"`,
		"50/s bursts 100":  "want",
		"50/s burst 100 1": "want",
		"50:100":           "want",
	}
	for in, says := range bad {
		if _, err := ParseRate(in); err == nil || !strings.Contains(err.Error(), says) {
			t.Errorf("ParseRate(%q) = %v, want an error saying %q", in, err, says)
		}
	}
}

// TestAdmitIsATokenBucket walks a bucket of 10 a second (one per 100 ms),
// bursts of 3, through time.
func TestAdmitIsATokenBucket(t *testing.T) {
	t.Parallel()
	r := Rate{Limit: 10, Per: time.Second, Burst: 3}
	ms := func(n int64) int64 { return n * 1000 }
	allowed := Decision{Allowed: true}
	steps := []struct {
		at   int64 // ms
		want Decision
	}{
		// A fresh bucket takes a burst of 3 at once
		{0, allowed}, {0, allowed}, {0, allowed},
		// then refuses, saying when one will pass
		{0, Decision{RetryAfter: 100 * time.Millisecond}},
		{40, Decision{RetryAfter: 60 * time.Millisecond}},
		// and regains one request per 100 ms
		{100, allowed},
		{150, Decision{RetryAfter: 50 * time.Millisecond}},
		// up to the burst, however long it waits
		{10_000, allowed}, {10_000, allowed}, {10_000, allowed},
		{10_000, Decision{RetryAfter: 100 * time.Millisecond}},
	}
	var fullAt int64
	for i, s := range steps {
		var got Decision
		fullAt, got = r.admit(fullAt, ms(s.at))
		if got != s.want {
			t.Errorf("step %d at %d ms: %+v, want %+v", i, s.at, got, s.want)
		}
	}
}
