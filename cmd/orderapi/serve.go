package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/orderapi/orderapi/internal/adapters/httpapi"
	"github.com/orderapi/orderapi/internal/adapters/metrics"
	"github.com/orderapi/orderapi/internal/adapters/postgres"
	"github.com/orderapi/orderapi/internal/app"
	"github.com/orderapi/orderapi/internal/feedhub"
	"github.com/rs/zerolog"
)

// shutdownGrace is how long in-flight requests get after SIGINT/SIGTERM.
const shutdownGrace = 15 * time.Second

func serve(ctx context.Context, cfg config, log zerolog.Logger) error {
	pool, err := connect(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer pool.Close()

	if cfg.DebugAddr != "" {
		stop, err := serveDebug(cfg.DebugAddr, log)
		if err != nil {
			return err
		}
		defer stop()
	}

	// The listener wakes live feeds and the analytics consumer when events
	// are appended, by this replica or another; the announcer tells every
	// replica's listener of this one's appends, once they commit. Both use
	// pooled connections, so both stop before the pool closes (deferred
	// after pool.Close, their stops run before it).
	listener := postgres.NewListener(pool, log)
	defer background(ctx, listener.Run)()
	announcer := postgres.NewAnnouncer(pool, log, listener)
	defer background(ctx, announcer.Run)()

	store := postgres.NewStore(pool, postgres.WithDefaultCurrency(cfg.DefaultCurrency),
		postgres.WithSnapshots(cfg.SnapshotEvery), postgres.WithAnnouncer(announcer))
	// Events this build cannot decode (written by a newer release) would
	// fail every read that reached them: refuse to start instead.
	if _, err := store.CheckDecodable(ctx); err != nil {
		return fmt.Errorf("refusing to serve: %w (run a build that knows them)", err)
	}
	// The snapshot writer stores, after the loads, the states they found
	// worth keeping; it writes through the pool, so it stops before the
	// pool closes.
	defer background(ctx, postgres.NewSnapshotWriter(store, log).Run)()

	// The analytics consumer runs in one replica at a time: every replica
	// competes for its lock, the holder consumes.
	analytics, err := postgres.NewAnalytics(store, log, postgres.AnalyticsConfig{Wake: listener})
	if err != nil {
		return err
	}
	defer background(ctx, analytics.Run)()

	// Metrics are always on: counted by the service and the HTTP layer,
	// the pool and the projections' lag read at each scrape.
	mx, err := metrics.New(metrics.Config{
		Pool:        pool,
		Projections: analytics,
		Snapshots:   func() metrics.SnapshotCounts { return metrics.SnapshotCounts(store.SnapshotStats()) },
	})
	if err != nil {
		return err
	}

	svc, err := app.NewService(store, store, app.Config{
		DefaultCurrency: cfg.DefaultCurrency,
		Analytics:       analytics,
		Wake:            listener,
		IdempotencyTTL:  cfg.IdempotencyTTL,
		Observer:        mx,
		StateCacheSize:  stateCacheSize(cfg.StateCache),
	})
	if err != nil {
		return err
	}
	// Every replica purges expired idempotency keys; they skip each
	// other's rows.
	defer background(ctx, purgeIdempotencyKeys(store, log, idempotencyPurgeEvery))()

	// One reader of the global feed serves every live feed of this
	// replica, woken by the listener. It reads through the pool, so it
	// closes before the pool does.
	hub, err := feedhub.New(svc, log, feedhub.Config{Wake: listener.Subscribe})
	if err != nil {
		return err
	}
	defer hub.Close()

	// closing ends the live feeds when shutdown begins: Shutdown waits
	// for handlers to return, and a live feed would not on its own.
	closing := make(chan struct{})
	handler, err := httpapi.NewServer(svc, log, httpapi.Config{
		CORSOrigins:          cfg.CORSOrigins,
		Ready:                readiness(pool),
		Feed:                 hub,
		Closing:              closing,
		FeedStreams:          cfg.FeedStreams,
		FeedStreamsPerClient: cfg.FeedStreamsPerClient,
		Observe:              mx.ObserveRequest,
		Metrics:              mx.Handler(),
	})
	if err != nil {
		return err
	}

	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", cfg.Addr, err)
	}
	// Slow or stalled clients must not hold connections forever.
	srv := newHTTPServer(handler, defaultServerLimits)
	srv.RegisterOnShutdown(func() { close(closing) })
	log.Info().Str("addr", ln.Addr().String()).Msg("serving")

	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}

	log.Info().Msg("shutting down")
	shutdownCtx, cancel := context.WithTimeout(context.Background(), shutdownGrace)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	if err := <-errc; !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("serve: %w", err)
	}
	return nil
}

// background runs fn until ctx ends or the returned stop is called; stop
// waits for fn to return. fn's error is only ever its context's end: both
// workers retry every other failure themselves.
func background(ctx context.Context, fn func(context.Context) error) (stop func()) {
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = fn(ctx)
	}()
	return func() {
		cancel()
		<-done
	}
}

// readiness reports whether the database answers and its schema is the
// one this build expects.
func readiness(pool *pgxpool.Pool) func(context.Context) error {
	return func(ctx context.Context) error {
		ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		defer cancel()
		if err := pool.Ping(ctx); err != nil {
			return fmt.Errorf("database unreachable: %w", err)
		}
		return postgres.SchemaCurrent(ctx, pool)
	}
}

// stateCacheSize maps ORDERAPI_STATE_CACHE, where 0 means none, to
// app.Config's, where none is negative.
func stateCacheSize(n int) int {
	if n == 0 {
		return -1
	}
	return n
}
