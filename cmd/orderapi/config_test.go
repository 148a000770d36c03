package main

import (
	"testing"
	"time"
)

func TestIdempotencyTTLConfig(t *testing.T) {
	for v, want := range map[string]time.Duration{"": 24 * time.Hour, "90m": 90 * time.Minute, "1h30m": 90 * time.Minute} {
		cfg, err := loadConfig(env(map[string]string{"ORDERAPI_IDEMPOTENCY_TTL": v}))
		if err != nil || cfg.IdempotencyTTL != want {
			t.Errorf("ORDERAPI_IDEMPOTENCY_TTL=%q: %s, %v; want %s", v, cfg.IdempotencyTTL, err, want)
		}
	}
}
