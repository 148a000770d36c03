package main

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/orderapi/orderapi/internal/adapters/postgres"
	"github.com/orderapi/orderapi/internal/adapters/postgres/eventstore"
	"github.com/orderapi/orderapi/internal/adapters/postgres/schema"
	"github.com/orderapi/orderapi/internal/adapters/postgres/standby"
	"github.com/orderapi/orderapi/internal/app"
	"github.com/rs/zerolog"
)

// startupWait bounds how long a command waits for the database to answer
// at start: long enough to ride out a database that starts alongside it,
// short enough that a wrong DATABASE_URL fails visibly.
const startupWait = 30 * time.Second

// The default bounds of a migration run; ORDERAPI_MIGRATE_TIMEOUT sets
// both. A run blocked by another session logs that session every
// migrateReportEvery, and names it in its error when it gives up.
const (
	// migrateWait is orderapi migrate's: it is run ahead of a release, by
	// an operator or a deploy job that watches it, and may build an index
	// over the whole events table, which takes as long as it takes.
	migrateWait = time.Hour
	// serveMigrateWait is serve's: every replica migrates at start, one
	// doing the work while the others wait for it. Long enough for the
	// usual migration and its waiters; short enough that a replica held
	// by a forgotten transaction fails visibly, naming it, before an
	// orchestrator's own deadline (Kubernetes' is 10 minutes) rather than
	// hang the rollout. A release with a long migration runs orderapi
	// migrate first.
	serveMigrateWait   = 5 * time.Minute
	migrateReportEvery = 10 * time.Second
)

// defaultPoolConns is the pool size unless DATABASE_URL sets
// pool_max_conns.
const defaultPoolConns = 16

// prepareDatabase waits for the database to answer, then applies pending
// migrations within limit (or the configured one).
func prepareDatabase(ctx context.Context, cfg config, pool *pgxpool.Pool, log zerolog.Logger, limit time.Duration) error {
	if err := waitReachable(ctx, pool, log); err != nil {
		return err
	}
	limit = cmp.Or(cfg.MigrateTimeout, limit)
	err := schema.Migrate(ctx, pool, schema.Config{Timeout: limit, ReportEvery: migrateReportEvery, Log: log})
	switch {
	case errors.Is(err, schema.ErrTimeout):
		return fmt.Errorf("%w (ORDERAPI_MIGRATE_TIMEOUT sets the limit, now %s)", err, limit)
	case errors.Is(err, app.ErrReadOnly):
		// An operator's setting or a standby, not a database still
		// starting: waiting would only hide it.
		conn := pool.Config().ConnConfig
		return fmt.Errorf("database at %s:%d: %w (DATABASE_URL must name the writable primary)", conn.Host, conn.Port, err)
	}
	return err
}

// waitReachable returns once the database answers, retrying for up to
// startupWait. Every command waits so before it uses the database.
func waitReachable(ctx context.Context, pool *pgxpool.Pool, log zerolog.Logger) error {
	return postgres.WaitReachable(ctx, pool, startupWait, log)
}

// openPool opens the pool of DATABASE_URL, its statements traced by
// tracer unless it is nil. Connections are made on first use, so it does
// not tell whether the database answers.
func openPool(ctx context.Context, cfg config, tracer pgx.QueryTracer) (*pgxpool.Pool, *pgxpool.Config, error) {
	return openURL(ctx, "DATABASE_URL", cfg.DatabaseURL, tracer)
}

// openURL opens a pool of url, which the variable name set.
func openURL(ctx context.Context, name, url string, tracer pgx.QueryTracer) (*pgxpool.Pool, *pgxpool.Config, error) {
	poolCfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		// The URL may hold a password: say what is wrong, not the URL.
		return nil, nil, fmt.Errorf("%s is not a valid PostgreSQL URL: %w", name, err)
	}
	poolCfg.ConnConfig.Tracer = tracer
	if !strings.Contains(url, "pool_max_conns") {
		// pgxpool's default, max(4, cores), is too small here: the
		// listener and the analytics consumer each hold a connection for
		// good, and requests need the rest. A standby's serves requests
		// only, as many as the primary's.
		poolCfg.MaxConns = max(poolCfg.MaxConns, defaultPoolConns)
	}
	pool, err := pgxpool.NewWithConfig(ctx, poolCfg)
	if err != nil {
		return nil, nil, fmt.Errorf("database pool: %w", err)
	}
	return pool, poolCfg, nil
}

// openStandbys opens a pool and a store for each hot standby of
// ORDERAPI_READ_DATABASE_URL, named standby-1, standby-2... in its order,
// their stores made as the primary's (storeCfg) but announcing nothing;
// closeAll closes the pools. Nothing is migrated or checked on a
// standby: it has the primary's schema, replayed, and the router's health
// checks tell whether it answers.
func openStandbys(ctx context.Context, cfg config, storeCfg eventstore.Config, tracer pgx.QueryTracer, log zerolog.Logger) (_ []standby.Standby, closeAll func(), err error) {
	var (
		pools  []*pgxpool.Pool
		stores []*eventstore.Store
	)
	// A store's reads in flight end before its pool closes.
	closeAll = func() {
		for _, s := range stores {
			s.Close()
		}
		for _, p := range pools {
			p.Close()
		}
	}
	defer func() {
		if err != nil {
			closeAll()
		}
	}()
	storeCfg.Announcer = nil
	standbys := make([]standby.Standby, 0, len(cfg.ReadDatabaseURLs))
	for i, url := range cfg.ReadDatabaseURLs {
		pool, poolCfg, err := openURL(ctx, fmt.Sprintf("ORDERAPI_READ_DATABASE_URL's URL %d", i+1), url, standby.RecoveryTracer(tracer))
		if err != nil {
			return nil, nil, err
		}
		pools = append(pools, pool)
		name := fmt.Sprintf("standby-%d", i+1)
		conn := poolCfg.ConnConfig
		log.Info().Str("standby", name).Str("host", conn.Host).Uint16("port", conn.Port).Str("database", conn.Database).
			Msg("hot standby configured: its reads start once a health check puts it in rotation")
		store := eventstore.New(pool, storeCfg)
		stores = append(stores, store)
		standbys = append(standbys, standby.Standby{Name: name, Store: store})
	}
	return standbys, closeAll, nil
}

func migrate(ctx context.Context, cfg config, log zerolog.Logger) error {
	pool, _, err := openPool(ctx, cfg, nil)
	if err != nil {
		return err
	}
	defer pool.Close()
	if err := prepareDatabase(ctx, cfg, pool, log, migrateWait); err != nil {
		return err
	}
	log.Info().Msg("migrations applied")
	return nil
}

// check tells, before a deploy, whether this build can decode every event
// type and schema version in the database, as serve checks at start. It
// neither migrates nor writes, so it can run against a database that a
// previous release still serves: on one not yet migrated it is slower,
// not wrong.
func check(ctx context.Context, cfg config, log zerolog.Logger) error {
	pool, _, err := openPool(ctx, cfg, nil)
	if err != nil {
		return err
	}
	defer pool.Close()
	if err := waitReachable(ctx, pool, log); err != nil {
		return err
	}
	waitCtx, cancel := context.WithTimeout(ctx, startupWait)
	defer cancel()
	if err := schema.CheckEncoding(waitCtx, pool); err != nil {
		return err
	}
	// A database never migrated has no events table: say that, not
	// PostgreSQL's "relation does not exist".
	if v, err := schema.Version(waitCtx, pool); err != nil {
		return err
	} else if v == 0 {
		return errors.New("the database is not migrated (it holds no orderapi schema): run orderapi migrate first")
	}
	keyring, err := openKeyring(waitCtx, cfg, pool, log)
	if err != nil {
		return err
	}
	store := eventstore.New(pool, eventstore.Config{DefaultCurrency: cfg.DefaultCurrency, Keyring: keyring})
	stored, typesErr := store.CheckDecodable(waitCtx)
	switch {
	case errors.Is(typesErr, eventstore.ErrUnknownSchemas):
		// Go on: decoding every event names each such event.
		log.Error().Err(typesErr).Msg("the store holds event types or schema versions this build cannot decode")
	case typesErr != nil:
		return typesErr
	default:
		names := make([]string, len(stored))
		for i, s := range stored {
			names[i] = s.String()
		}
		log.Info().Strs("stored", names).Msg("this build decodes every stored event type and schema version")
	}
	// Types and versions say nothing of the values: decode every event,
	// however long that takes, as readers would.
	return errors.Join(typesErr, checkEvents(ctx, store, log))
}
