package main

import (
	"context"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/orderapi/orderapi/internal/adapters/httpapi"
	"github.com/orderapi/orderapi/internal/app"
)

func TestIdempotencyTTLConfig(t *testing.T) {
	for v, want := range map[string]time.Duration{"": 24 * time.Hour, "90m": 90 * time.Minute, "1h30m": 90 * time.Minute} {
		cfg, err := loadConfig(env(map[string]string{"ORDERAPI_IDEMPOTENCY_TTL": v}))
		if err != nil || cfg.IdempotencyTTL != want {
			t.Errorf("ORDERAPI_IDEMPOTENCY_TTL=%q: %s, %v; want %s", v, cfg.IdempotencyTTL, err, want)
		}
	}
}

func TestSnapshotEveryConfig(t *testing.T) {
	for v, want := range map[string]int{"": defaultSnapshotEvery, "0": 0, "1": 1, "250": 250} {
		cfg, err := loadConfig(env(map[string]string{"ORDERAPI_SNAPSHOT_EVERY": v}))
		if err != nil || cfg.SnapshotEvery != want {
			t.Errorf("ORDERAPI_SNAPSHOT_EVERY=%q: %d, %v; want %d", v, cfg.SnapshotEvery, err, want)
		}
	}
	for _, v := range []string{"-1", "ten", "1.5", " 5", "99999999999999999999"} {
		_, err := loadConfig(env(map[string]string{"ORDERAPI_SNAPSHOT_EVERY": v}))
		if err == nil || !strings.Contains(err.Error(), "ORDERAPI_SNAPSHOT_EVERY") {
			t.Errorf("ORDERAPI_SNAPSHOT_EVERY=%q: %v; want an error naming the variable", v, err)
		}
	}
}

func TestStateCacheConfig(t *testing.T) {
	for v, want := range map[string]int{"": app.DefaultStateCacheSize, "0": 0, "1": 1, "100000": 100000} {
		cfg, err := loadConfig(env(map[string]string{"ORDERAPI_STATE_CACHE": v}))
		if err != nil || cfg.StateCache != want {
			t.Errorf("ORDERAPI_STATE_CACHE=%q: %d, %v; want %d", v, cfg.StateCache, err, want)
		}
	}
	for _, v := range []string{"-1", "lots", "2.5"} {
		_, err := loadConfig(env(map[string]string{"ORDERAPI_STATE_CACHE": v}))
		if err == nil || !strings.Contains(err.Error(), "ORDERAPI_STATE_CACHE") {
			t.Errorf("ORDERAPI_STATE_CACHE=%q: %v; want an error naming the variable", v, err)
		}
	}
	// 0 turns the service's cache off; its own zero means the default.
	if stateCacheSize(0) >= 0 || stateCacheSize(10) != 10 {
		t.Error("ORDERAPI_STATE_CACHE=0 does not turn the cache off")
	}
}

func TestMigrateTimeoutConfig(t *testing.T) {
	for v, want := range map[string]time.Duration{"": 0, "90s": 90 * time.Second, "2h": 2 * time.Hour} {
		cfg, err := loadConfig(env(map[string]string{"ORDERAPI_MIGRATE_TIMEOUT": v}))
		if err != nil || cfg.MigrateTimeout != want {
			t.Errorf("ORDERAPI_MIGRATE_TIMEOUT=%q: %s, %v; want %s", v, cfg.MigrateTimeout, err, want)
		}
	}
	for _, v := range []string{"0s", "-1m", "soon", "10"} {
		_, err := loadConfig(env(map[string]string{"ORDERAPI_MIGRATE_TIMEOUT": v}))
		if err == nil || !strings.Contains(err.Error(), "ORDERAPI_MIGRATE_TIMEOUT") {
			t.Errorf("ORDERAPI_MIGRATE_TIMEOUT=%q: %v; want an error naming the variable", v, err)
		}
	}
}

func TestFeedStreamsConfig(t *testing.T) {
	cfg, err := loadConfig(env(nil))
	if err != nil || cfg.FeedStreams != httpapi.DefaultFeedStreams || cfg.FeedStreamsPerClient != httpapi.DefaultFeedStreamsPerClient {
		t.Errorf("unset: %d, %d, %v; want the defaults", cfg.FeedStreams, cfg.FeedStreamsPerClient, err)
	}
	cfg, err = loadConfig(env(map[string]string{"ORDERAPI_FEED_STREAMS_MAX": "2000", "ORDERAPI_FEED_STREAMS_PER_CLIENT": "1"}))
	if err != nil || cfg.FeedStreams != 2000 || cfg.FeedStreamsPerClient != 1 {
		t.Errorf("set: %d, %d, %v; want 2000, 1", cfg.FeedStreams, cfg.FeedStreamsPerClient, err)
	}
	for _, name := range []string{"ORDERAPI_FEED_STREAMS_MAX", "ORDERAPI_FEED_STREAMS_PER_CLIENT"} {
		for _, v := range []string{"0", "-1", "many", "1.5"} {
			_, err := loadConfig(env(map[string]string{name: v}))
			if err == nil || !strings.Contains(err.Error(), name) {
				t.Errorf("%s=%q: %v; want an error naming the variable", name, v, err)
			}
		}
	}
}

// TestHelpListsEveryVariable: each variable serve reads is in orderapi help.
func TestHelpListsEveryVariable(t *testing.T) {
	source, err := os.ReadFile("config.go")
	if err != nil {
		t.Fatal(err)
	}
	var help strings.Builder
	if err := run(context.Background(), []string{"orderapi", "help"}, env(nil), &help); err != nil {
		t.Fatal(err)
	}
	names := regexp.MustCompile(`"((?:ORDERAPI|LOG)_[A-Z_]+|DATABASE_URL)"`).FindAllStringSubmatch(string(source), -1)
	if len(names) < 10 {
		t.Fatalf("found %d variables in config.go", len(names))
	}
	for _, m := range names {
		if !strings.Contains(help.String(), m[1]) {
			t.Errorf("orderapi help does not list %s", m[1])
		}
	}
}
