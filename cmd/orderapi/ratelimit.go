package main

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"time"

	"github.com/orderapi/orderapi/internal/adapters/httpapi"
	"github.com/orderapi/orderapi/internal/adapters/ratelimit"
	"github.com/redis/go-redis/v9"
	"github.com/redis/go-redis/v9/maintnotifications"
	"github.com/rs/zerolog"
)

// Bounds on Redis's answers, unless ORDERAPI_REDIS_URL's own parameters
// (dial_timeout, read_timeout...) say otherwise. A rate limit must cost a
// request little: a Redis that does not answer within them counts as
// down, and the request passes.
const (
	redisDialTimeout = 250 * time.Millisecond
	redisTimeout     = 100 * time.Millisecond
)

// parseRedisURL reads ORDERAPI_REDIS_URL. Its errors never quote the URL,
// which may hold a password.
func parseRedisURL(s string) (*redis.Options, error) {
	opts, err := redis.ParseURL(s)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return nil, fmt.Errorf("ORDERAPI_REDIS_URL: %w (want redis://[user:password@]host[:port][/db], or rediss:// for TLS)", err)
	}
	return opts, nil
}

// rateLimiter is what counts each caller's requests against its rates:
// this process's memory, or, with ORDERAPI_REDIS_URL, a Redis server that
// every replica shares. failures, with Redis, counts the requests it could
// not decide; closeFn releases its connections.
func rateLimiter(ctx context.Context, cfg config, log zerolog.Logger) (l httpapi.Limiter, failures func() uint64, closeFn func(), err error) {
	if cfg.RedisURL == "" {
		return ratelimit.NewMemory(), nil, func() {}, nil
	}
	opts, err := parseRedisURL(cfg.RedisURL)
	if err != nil {
		return nil, nil, nil, err
	}
	if opts.DialTimeout == 0 {
		opts.DialTimeout = redisDialTimeout
	}
	if opts.ReadTimeout == 0 {
		opts.ReadTimeout = redisTimeout
	}
	if opts.WriteTimeout == 0 {
		opts.WriteTimeout = redisTimeout
	}
	if opts.PoolTimeout == 0 {
		opts.PoolTimeout = redisTimeout
	}
	// No second try: a request waits for one answer at most, and passes
	// without it. One dial a request, too: the client stops dialling for
	// a while once its pool's worth of dials have failed, and then fails
	// at once.
	if opts.MaxRetries == 0 {
		opts.MaxRetries = -1
	}
	opts.DialerRetries = 1
	// Maintenance notifications are a Redis Enterprise handshake; a plain
	// server refuses it on every new connection.
	opts.MaintNotificationsConfig = &maintnotifications.Config{Mode: maintnotifications.ModeDisabled}
	// go-redis's own messages (a failed dial each time) go to the log
	// below the limiter's warning, which says what an operator needs, once
	// per period.
	redis.SetLogger(redisLog{log})
	client := redis.NewClient(opts)
	limiter, err := ratelimit.NewRedis(ratelimit.RedisConfig{Client: client, Log: log})
	if err != nil {
		_ = client.Close()
		return nil, nil, nil, err
	}
	// A Redis down at start is no reason not to serve: say so, and serve
	// unlimited until it answers.
	pingCtx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	if err := client.Ping(pingCtx).Err(); err != nil {
		log.Warn().Err(err).Str("addr", opts.Addr).Msg("Redis does not answer: requests pass without rate limits until it does")
	} else {
		log.Info().Str("addr", opts.Addr).Msg("rate limits shared through Redis")
	}
	return limiter, limiter.Failures, func() { _ = client.Close() }, nil
}

// redisLog is go-redis's logger, writing to the service's log at debug
// level.
type redisLog struct{ log zerolog.Logger }

func (l redisLog) Printf(_ context.Context, format string, v ...any) {
	l.log.Debug().Msgf(format, v...)
}
