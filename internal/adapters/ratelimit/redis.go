package ratelimit

import (
	"context"
	_ "embed"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/rs/zerolog"
)

//go:embed gcra.lua
var gcraSource string

// gcra is the script every Redis limiter runs: one round trip per request,
// atomic on the server, so replicas racing on one bucket never both take
// its last token.
var gcra = redis.NewScript(gcraSource)

// DefaultRedisPrefix is what Redis's keys start with unless
// RedisConfig.Prefix says otherwise.
const DefaultRedisPrefix = "orderapi:ratelimit:"

// failureLogEvery bounds the log lines of an unreachable Redis: one at
// first, then one per period, each with the count so far.
const failureLogEvery = 10 * time.Second

// RedisConfig is what a Redis limiter needs.
type RedisConfig struct {
	// Client reaches the server; a *redis.Client, or a cluster's client
	// (each bucket is one key).
	Client redis.Scripter
	// Prefix starts every key; DefaultRedisPrefix if empty.
	Prefix string
	// Log is told when the server cannot be reached.
	Log zerolog.Logger
}

// Redis keeps the buckets in a Redis server, shared by every replica that
// uses it with the same prefix.
type Redis struct {
	client   redis.Scripter
	prefix   string
	log      zerolog.Logger
	failures atomic.Uint64
}

// NewRedis returns a limiter over cfg.Client.
func NewRedis(cfg RedisConfig) (*Redis, error) {
	if cfg.Client == nil {
		return nil, errors.New("ratelimit: RedisConfig.Client is required")
	}
	if cfg.Prefix == "" {
		cfg.Prefix = DefaultRedisPrefix
	}
	return &Redis{
		client: cfg.Client,
		prefix: cfg.Prefix,
		log:    cfg.Log.Sample(&zerolog.BurstSampler{Burst: 1, Period: failureLogEvery}),
	}, nil
}

// Allow counts a request against key's bucket of rate r. When the server
// cannot answer, Allow says why, counts it (Failures) and logs it, at most
// once per failureLogEvery; the caller decides what a request without a
// decision gets.
func (l *Redis) Allow(ctx context.Context, key string, r Rate) (Decision, error) {
	v, err := gcra.Run(ctx, l.client, []string{l.prefix + key}, r.interval(), r.capacity()).Int64Slice()
	if err == nil && len(v) != 2 {
		err = fmt.Errorf("the script answered %d numbers, want 2", len(v))
	}
	if err != nil {
		if ctx.Err() != nil {
			// The request ended first (its client left): not the
			// server's failure.
			return Decision{}, err
		}
		n := l.failures.Add(1)
		l.log.Warn().Err(err).Uint64("failures", n).
			Msg("rate limits cannot be read from Redis: requests pass unlimited until it answers")
		return Decision{}, fmt.Errorf("ratelimit: redis: %w", err)
	}
	return Decision{Allowed: v[0] == 1, RetryAfter: time.Duration(v[1]) * time.Microsecond}, nil
}

// Failures is how many requests the server could not decide since the
// limiter was made.
func (l *Redis) Failures() uint64 { return l.failures.Load() }
