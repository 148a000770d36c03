package main

import (
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/orderapi/orderapi/internal/adapters/httpapi"
	"github.com/orderapi/orderapi/internal/adapters/postgres/pgtest"
	"github.com/orderapi/orderapi/internal/adapters/ratelimit"
	"github.com/orderapi/orderapi/internal/adapters/ratelimit/redistest"
)

func TestRateConfig(t *testing.T) {
	// Unset, the defaults
	cfg, err := loadConfig(env(nil))
	if err != nil || cfg.CommandRate != httpapi.DefaultCommandRate || cfg.ReadRate != httpapi.DefaultReadRate || cfg.RedisURL != "" {
		t.Errorf("unset: %v, %v, %q, %v; want the defaults, in memory", cfg.CommandRate, cfg.ReadRate, cfg.RedisURL, err)
	}
	// Set, as written
	cfg, err = loadConfig(env(map[string]string{
		"ORDERAPI_RATE_COMMANDS": "5/s burst 20", "ORDERAPI_RATE_READS": "600/m",
		"ORDERAPI_REDIS_URL": "redis://:secret@cache.internal:6380/2",
	}))
	if err != nil || cfg.CommandRate != (ratelimit.Rate{Limit: 5, Per: time.Second, Burst: 20}) ||
		cfg.ReadRate != (ratelimit.Rate{Limit: 600, Per: time.Minute, Burst: 600}) || cfg.RedisURL == "" {
		t.Errorf("set: %v, %v, %v", cfg.CommandRate, cfg.ReadRate, err)
	}
	// Wrong, refused at start, naming the variable and what it wants
	for name, values := range map[string][]string{
		"ORDERAPI_RATE_COMMANDS": {"50", "50:100", "0/s", "50/d", "50/s burst", "50/s burst 0", "off"},
		"ORDERAPI_RATE_READS":    {"many", "-1/s", "200/s burst -4"},
	} {
		for _, v := range values {
			_, err := loadConfig(env(map[string]string{name: v}))
			if err == nil || !strings.Contains(err.Error(), name) || !strings.Contains(err.Error(), "want") {
				t.Errorf("%s=%q: %v; want an error naming the variable and what it wants", name, v, err)
			}
		}
	}
	for _, v := range []string{"http://cache:6379", "redis://:secret@cache:6379/db", "redis://:secret@[::1"} {
		_, err := loadConfig(env(map[string]string{"ORDERAPI_REDIS_URL": v}))
		if err == nil || !strings.Contains(err.Error(), "ORDERAPI_REDIS_URL") {
			t.Errorf("ORDERAPI_REDIS_URL=%q: %v; want an error naming the variable", v, err)
		}
		if err != nil && strings.Contains(err.Error(), "secret") {
			t.Errorf("ORDERAPI_REDIS_URL=%q: the error shows the password: %v", v, err)
		}
	}
}

// aCaller is a client acting as a member of staff no other test is: its
// rates are its own, in a Redis other tests share too.
func aCaller(t *testing.T) (client *http.Client, subject string) {
	t.Helper()
	subject = "staff:ratelimit-" + uuid.NewString()
	return &http.Client{Timeout: 5 * time.Second, Transport: bearer{token: staffTokenOf(t, subject)}}, subject
}

func createOrderFrom(t *testing.T, client *http.Client, url string) *http.Response {
	t.Helper()
	resp, err := client.Post(url+"/v1/orders", "application/json",
		strings.NewReader(`{"customer_id":"0193a000-0000-7000-8000-0000000000c1"}`))
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp
}

// TestServeSharesRateLimitsThroughRedis: two replicas given
// ORDERAPI_REDIS_URL count a caller's commands together.
func TestServeSharesRateLimitsThroughRedis(t *testing.T) {
	t.Parallel()
	// Given two replicas sharing a Redis, and a caller of its own
	client, _ := redistest.New(t)
	url := pgtest.NewURL(t)
	vars := map[string]string{
		"ORDERAPI_REDIS_URL":     redistest.URL(),
		"ORDERAPI_RATE_COMMANDS": "1/m burst 2",
	}
	a, _ := startServerWith(t, url, vars, io.Discard)
	b, _ := startServerWith(t, url, vars, io.Discard)
	caller, subject := aCaller(t)
	// Its keys are ratelimit.DefaultRedisPrefix's, as in production:
	// deleted when the test ends.
	t.Cleanup(func() {
		keys := ratelimit.DefaultRedisPrefix + "*:sub:" + subject
		if found, err := client.Keys(t.Context(), keys).Result(); err == nil && len(found) > 0 {
			client.Del(t.Context(), found...)
		}
	})

	// When it sends its burst to one and more to either
	statuses := []int{
		createOrderFrom(t, caller, "http://"+a).StatusCode,
		createOrderFrom(t, caller, "http://"+b).StatusCode,
		createOrderFrom(t, caller, "http://"+a).StatusCode,
		createOrderFrom(t, caller, "http://"+b).StatusCode,
	}
	// Then the two replicas allowed the burst between them, and no more
	want := []int{http.StatusCreated, http.StatusCreated, http.StatusTooManyRequests, http.StatusTooManyRequests}
	if fmt.Sprint(statuses) != fmt.Sprint(want) {
		t.Errorf("statuses %v, want %v", statuses, want)
	}
}

// TestServeFailsOpenWithoutRedis: a replica whose Redis is down serves,
// unlimited, and counts each request it could not limit.
func TestServeFailsOpenWithoutRedis(t *testing.T) {
	t.Parallel()
	// Given a replica whose Redis cannot be reached
	addr, _ := startServerWith(t, pgtest.NewURL(t), map[string]string{
		"ORDERAPI_REDIS_URL":     redistest.Down(t),
		"ORDERAPI_RATE_COMMANDS": "1/m burst 1",
	}, io.Discard)

	// When a caller sends more commands than its rate
	caller, _ := aCaller(t)
	for i := range 3 {
		// Then each is served
		if resp := createOrderFrom(t, caller, "http://"+addr); resp.StatusCode != http.StatusCreated {
			t.Errorf("command %d: %d", i+1, resp.StatusCode)
		}
	}
	// and counted
	body := getText(t, "http://"+addr+"/metrics")
	if !strings.Contains(body, "orderapi_rate_limit_failures_total 3") {
		t.Errorf("metrics lack 3 rate limit failures:\n%s", grepLines(body, "rate_limit"))
	}
}
