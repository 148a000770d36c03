package main

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/orderapi/orderapi/internal/adapters/postgres"
	"github.com/orderapi/orderapi/internal/app"
	"github.com/rs/zerolog"
)

// startupWait bounds how long the service waits for the database at start:
// long enough to ride out a database that starts alongside it, short
// enough that a wrong DATABASE_URL fails visibly.
const startupWait = 30 * time.Second

// defaultPoolConns is the pool size unless DATABASE_URL sets
// pool_max_conns.
const defaultPoolConns = 16

// connect opens the pool and applies pending migrations, retrying while the
// database is not reachable yet.
func connect(ctx context.Context, cfg config, log zerolog.Logger) (*pgxpool.Pool, error) {
	pool, poolCfg, err := openPool(ctx, cfg)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, startupWait)
	defer cancel()
	for wait := 250 * time.Millisecond; ; wait = min(2*wait, 4*time.Second) {
		err = postgres.Migrate(ctx, pool)
		if err == nil {
			return pool, nil
		}
		if errors.Is(err, app.ErrReadOnly) {
			// An operator's setting or a standby, not a database still
			// starting: waiting would only hide it.
			pool.Close()
			return nil, fmt.Errorf("database at %s:%d: %w (DATABASE_URL must name the writable primary)", poolCfg.ConnConfig.Host, poolCfg.ConnConfig.Port, err)
		}
		log.Warn().Err(err).Str("host", poolCfg.ConnConfig.Host).Msg("database not ready; retrying")
		select {
		case <-ctx.Done():
			pool.Close()
			return nil, fmt.Errorf("database at %s:%d not ready after %s: %w", poolCfg.ConnConfig.Host, poolCfg.ConnConfig.Port, startupWait, err)
		case <-time.After(wait):
		}
	}
}

// openPool opens the pool of DATABASE_URL. Connections are made on first
// use, so it does not tell whether the database answers.
func openPool(ctx context.Context, cfg config) (*pgxpool.Pool, *pgxpool.Config, error) {
	poolCfg, err := pgxpool.ParseConfig(cfg.DatabaseURL)
	if err != nil {
		// The URL may hold a password: say what is wrong, not the URL.
		return nil, nil, fmt.Errorf("DATABASE_URL is not a valid PostgreSQL URL: %w", err)
	}
	if !strings.Contains(cfg.DatabaseURL, "pool_max_conns") {
		// pgxpool's default, max(4, cores), is too small here: the
		// listener and the analytics consumer each hold a connection for
		// good, and requests need the rest.
		poolCfg.MaxConns = max(poolCfg.MaxConns, defaultPoolConns)
	}
	pool, err := pgxpool.NewWithConfig(ctx, poolCfg)
	if err != nil {
		return nil, nil, fmt.Errorf("database pool: %w", err)
	}
	return pool, poolCfg, nil
}

func migrate(ctx context.Context, cfg config, log zerolog.Logger) error {
	pool, err := connect(ctx, cfg, log)
	if err != nil {
		return err
	}
	pool.Close()
	log.Info().Msg("migrations applied")
	return nil
}

// check tells, before a deploy, whether this build can decode every event
// type and schema version in the database, as serve checks at start. It
// neither migrates nor writes, so it can run against a database that a
// previous release still serves: on one not yet migrated it is slower,
// not wrong.
func check(ctx context.Context, cfg config, log zerolog.Logger) error {
	pool, _, err := openPool(ctx, cfg)
	if err != nil {
		return err
	}
	defer pool.Close()
	ctx, cancel := context.WithTimeout(ctx, startupWait)
	defer cancel()
	store := postgres.NewStore(pool, postgres.WithDefaultCurrency(cfg.DefaultCurrency))
	stored, err := store.CheckDecodable(ctx)
	if err != nil {
		return err
	}
	names := make([]string, len(stored))
	for i, s := range stored {
		names[i] = s.String()
	}
	log.Info().Strs("stored", names).Msg("this build decodes every stored event type and schema version")
	return nil
}
