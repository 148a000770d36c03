package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/rs/zerolog"
)

// WaitReachable returns once the pool's database answers a ping, trying
// again after a growing wait (250ms, doubling up to 4s) for at most limit,
// and logging each failure: enough to ride out a database that starts
// alongside the caller, short enough that a wrong address fails visibly.
func WaitReachable(ctx context.Context, pool *pgxpool.Pool, limit time.Duration, log zerolog.Logger) error {
	ctx, cancel := context.WithTimeout(ctx, limit)
	defer cancel()
	conn := pool.Config().ConnConfig
	for wait := 250 * time.Millisecond; ; wait = min(2*wait, 4*time.Second) {
		err := pool.Ping(ctx)
		if err == nil {
			return nil
		}
		log.Warn().Err(err).Str("host", conn.Host).Msg("database not ready; retrying")
		if Sleep(ctx, wait) != nil {
			return fmt.Errorf("database at %s:%d not ready after %s: %w", conn.Host, conn.Port, limit, err)
		}
	}
}
