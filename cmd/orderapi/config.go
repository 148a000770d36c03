package main

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/orderapi/orderapi/internal/adapters/httpapi"
	"github.com/orderapi/orderapi/internal/adapters/ratelimit"
	"github.com/orderapi/orderapi/internal/app"
	"github.com/orderapi/orderapi/internal/domain/order"
)

const (
	defaultDatabaseURL = "postgres://postgres@127.0.0.1:5432/orderapi?sslmode=disable"
	defaultAddr        = ":8080"
	// defaultSnapshotEvery is how many events apart an order's snapshots
	// are, and so about the most a read folds (docs/performance.md).
	defaultSnapshotEvery = 100
)

// config is everything the environment sets.
type config struct {
	DatabaseURL     string
	Addr            string
	DefaultCurrency order.Currency
	CORSOrigins     []string
	LogLevel        string
	LogFormat       string
	// IdempotencyTTL is how long an Idempotency-Key is remembered.
	IdempotencyTTL time.Duration
	// SnapshotEvery: an order's state is snapshotted at the multiples of
	// this many events; 0 turns snapshots off.
	SnapshotEvery int
	// StateCache is how many orders' states a process keeps after its
	// commands; 0 keeps none.
	StateCache int
	// MigrateTimeout bounds a migration run; zero leaves each command its
	// own default (see migrateWait and serveMigrateWait).
	MigrateTimeout time.Duration
	// DebugAddr, when set, is where net/http/pprof's profiles are served:
	// a listener of its own, never the API's, since profiles expose the
	// process's internals.
	DebugAddr string
	// FeedStreams and FeedStreamsPerClient bound the live feeds open at
	// once, in all and per client.
	FeedStreams, FeedStreamsPerClient int
	// MetricsAddr, when set, is where GET /metrics is served, on a
	// listener of its own, and the API's listener serves it no more.
	MetricsAddr string
	// CommandRate and ReadRate are what each caller may send.
	CommandRate, ReadRate ratelimit.Rate
	// RedisURL, when set, is the Redis server that keeps the rate limits,
	// shared by every replica; otherwise each replica counts on its own.
	RedisURL string
}

func loadConfig(getenv func(string) string) (config, error) {
	cfg := config{
		DebugAddr:   getenv("ORDERAPI_DEBUG_ADDR"),
		MetricsAddr: getenv("ORDERAPI_METRICS_ADDR"),
		RedisURL:    getenv("ORDERAPI_REDIS_URL"),
		DatabaseURL: getenv("DATABASE_URL"),
		Addr:        getenv("ORDERAPI_ADDR"),
		LogLevel:    getenv("LOG_LEVEL"),
		LogFormat:   getenv("LOG_FORMAT"),
	}
	if cfg.DatabaseURL == "" {
		cfg.DatabaseURL = defaultDatabaseURL
	}
	if cfg.Addr == "" {
		cfg.Addr = defaultAddr
	}
	if cfg.LogLevel == "" {
		cfg.LogLevel = "info"
	}
	switch cfg.LogFormat {
	case "":
		cfg.LogFormat = "json"
	case "json", "console":
	default:
		return config{}, fmt.Errorf("LOG_FORMAT %q: want json or console", cfg.LogFormat)
	}
	currency := getenv("ORDERAPI_DEFAULT_CURRENCY")
	if currency == "" {
		currency = "USD"
	}
	c, err := order.ParseCurrency(currency)
	if err != nil {
		return config{}, fmt.Errorf("ORDERAPI_DEFAULT_CURRENCY %q: %w", currency, err)
	}
	cfg.DefaultCurrency = c
	cfg.IdempotencyTTL = app.DefaultIdempotencyTTL
	if v := getenv("ORDERAPI_IDEMPOTENCY_TTL"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 {
			return config{}, fmt.Errorf("ORDERAPI_IDEMPOTENCY_TTL %q: want a positive duration such as 24h or 90m", v)
		}
		cfg.IdempotencyTTL = d
	}
	if v := getenv("ORDERAPI_MIGRATE_TIMEOUT"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 {
			return config{}, fmt.Errorf("ORDERAPI_MIGRATE_TIMEOUT %q: want a positive duration such as 10m or 2h", v)
		}
		cfg.MigrateTimeout = d
	}
	cfg.SnapshotEvery = defaultSnapshotEvery
	if v := getenv("ORDERAPI_SNAPSHOT_EVERY"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return config{}, fmt.Errorf("ORDERAPI_SNAPSHOT_EVERY %q: want a number of events, 0 or more (0 turns snapshots off)", v)
		}
		cfg.SnapshotEvery = n
	}
	cfg.StateCache = app.DefaultStateCacheSize
	if v := getenv("ORDERAPI_STATE_CACHE"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return config{}, fmt.Errorf("ORDERAPI_STATE_CACHE %q: want a number of orders, 0 or more (0 keeps none)", v)
		}
		cfg.StateCache = n
	}
	if cfg.FeedStreams, err = streams(getenv, "ORDERAPI_FEED_STREAMS_MAX", httpapi.DefaultFeedStreams); err != nil {
		return config{}, err
	}
	if cfg.FeedStreamsPerClient, err = streams(getenv, "ORDERAPI_FEED_STREAMS_PER_CLIENT", httpapi.DefaultFeedStreamsPerClient); err != nil {
		return config{}, err
	}
	if cfg.CommandRate, err = rate(getenv, "ORDERAPI_RATE_COMMANDS", httpapi.DefaultCommandRate); err != nil {
		return config{}, err
	}
	if cfg.ReadRate, err = rate(getenv, "ORDERAPI_RATE_READS", httpapi.DefaultReadRate); err != nil {
		return config{}, err
	}
	if cfg.RedisURL != "" {
		if _, err := parseRedisURL(cfg.RedisURL); err != nil {
			return config{}, err
		}
	}
	for _, o := range strings.Split(getenv("ORDERAPI_CORS_ORIGINS"), ",") {
		if o = strings.TrimSpace(o); o != "" {
			cfg.CORSOrigins = append(cfg.CORSOrigins, o)
		}
	}
	return cfg, nil
}

// streams reads a number of live feeds, 1 or more, from the variable
// name; def when it is unset.
func streams(getenv func(string) string, name string, def int) (int, error) {
	v := getenv(name)
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 {
		return 0, fmt.Errorf("%s %q: want a number of live feeds, 1 or more", name, v)
	}
	return n, nil
}

// rate reads a caller's rate from the variable name, as ratelimit.ParseRate
// does; def when it is unset.
func rate(getenv func(string) string, name string, def ratelimit.Rate) (ratelimit.Rate, error) {
	v := getenv(name)
	if v == "" {
		return def, nil
	}
	r, err := ratelimit.ParseRate(v)
	if err != nil {
		return ratelimit.Rate{}, fmt.Errorf("%s %q: %w", name, v, err)
	}
	return r, nil
}
