package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/orderapi/orderapi/internal/adapters/httpapi"
	"github.com/orderapi/orderapi/internal/adapters/metrics"
	"github.com/orderapi/orderapi/internal/adapters/personaldata"
	"github.com/orderapi/orderapi/internal/adapters/postgres/analytics"
	"github.com/orderapi/orderapi/internal/adapters/postgres/datakeys"
	"github.com/orderapi/orderapi/internal/adapters/postgres/dbclock"
	"github.com/orderapi/orderapi/internal/adapters/postgres/erasure"
	"github.com/orderapi/orderapi/internal/adapters/postgres/eventstore"
	"github.com/orderapi/orderapi/internal/adapters/postgres/notify"
	"github.com/orderapi/orderapi/internal/adapters/postgres/readiness"
	"github.com/orderapi/orderapi/internal/adapters/postgres/standby"
	"github.com/orderapi/orderapi/internal/app"
	"github.com/orderapi/orderapi/internal/feedhub"
	"github.com/rs/zerolog"
)

// shutdownGrace is how long in-flight requests get after SIGINT, SIGTERM
// or SIGHUP.
const shutdownGrace = 15 * time.Second

// listenerStartWait bounds how long serve waits for its listener to listen
// before it serves: it serves anyway, not ready until the listener listens.
const listenerStartWait = 3 * time.Second

// readyChecks are the checks of readiness: the database's and the
// verifier's, and, where personal data is sealed, the listener's: a
// replica that does not listen would not hear of other replicas'
// erasures, and leaves the rotation until it listens again.
func readyChecks(db, auth func(context.Context) error, listener *notify.Listener, keyring *personaldata.Keyring) []func(context.Context) error {
	checks := []func(context.Context) error{db, auth}
	if keyring != nil {
		checks = append(checks, listener.Ready)
	}
	return checks
}

func serve(ctx context.Context, cfg config, log zerolog.Logger, droppedLogLines func() uint64) error {
	// Authentication is checked first, and its keys load while the
	// database is prepared.
	verifier, err := newVerifier(cfg.Auth, log)
	if err != nil {
		return err
	}
	defer background(ctx, verifier.Run)()
	// newVerifier has made the development key, if it was missing.
	devTokens, err := consoleDevTokens(cfg.Auth)
	if err != nil {
		return err
	}
	// Without its master key the service can neither seal nor open
	// personal data: refuse to start rather than fail every order.
	masters, err := serveMasterKeys(cfg, log)
	if err != nil {
		return err
	}
	// Idempotent requests are fingerprinted under a key derived from the
	// master key, so that a copy of the database cannot confirm a guess of
	// a body; with sealing off, whose database shows personal data in
	// clear, with the unkeyed digest.
	fingerprints := personaldata.UnkeyedRequestFingerprints()
	if masters != nil {
		if fingerprints, err = personaldata.NewRequestFingerprints(masters); err != nil {
			return err
		}
	}

	// Tracing, when the OTEL_* settings turn it on, follows each request
	// into its statements; it stops last, exporting what is left.
	tr, err := startTracing(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer tr.stop(log)

	pool, _, err := openPool(ctx, cfg, tr.pool())
	if err != nil {
		return err
	}
	defer pool.Close()

	// The listener wakes live feeds and the analytics consumer when events
	// are appended, by this replica or another; the announcer tells every
	// replica's listener of this one's appends, once they commit.
	listener := notify.NewListener(pool, log)
	announcer := notify.NewAnnouncer(pool, log, listener)
	// One keyring seals and opens personal data for every store of this
	// process, the standbys' too; its keys are read from the primary.
	// None with sealing off. Every replica forgets an erased customer's
	// keys when told, and everything when its listener loses its session
	// (or finds it silent: see notify.DefaultHeartbeatEvery) and again
	// when it listens anew. Told or not, it asks the primary again about
	// a key it has used for personaldata.DefaultKeyTrust, and decides no
	// command on a state loaded app.DefaultStateMaxAge ago.
	var keyring *personaldata.Keyring
	if masters != nil {
		keyring = newKeyring(pool, masters)
	}
	erasures := &erasureNews{keys: datakeys.Forgetter{Keyring: keyring}}
	listener.Handle(datakeys.ErasedChannel, erasures)
	storeCfg := eventstore.Config{DefaultCurrency: cfg.DefaultCurrency, SnapshotEvery: cfg.SnapshotEvery, Announcer: announcer,
		Keyring: keyring}
	store := eventstore.New(pool, storeCfg)
	// Reads in flight end before the pool closes (deferred after it, this
	// runs before it).
	defer store.Close()
	// Queries read the hot standbys of ORDERAPI_READ_DATABASE_URL while
	// they are in rotation, and the primary otherwise: without standbys,
	// always. Their pools close after everything that reads them.
	standbys, closeStandbys, err := openStandbys(ctx, cfg, storeCfg, tr.pool(), log)
	if err != nil {
		return err
	}
	defer closeStandbys()
	replayWait := cfg.ReadReplayWait
	if replayWait == 0 {
		replayWait = -1 // the router's zero is its default
	}
	reads, err := standby.New(store, standby.Config{Standbys: standbys, MaxLag: cfg.ReadMaxLag, ReplayWait: replayWait, Log: log})
	if err != nil {
		return err
	}
	// The analytics consumer runs in one replica at a time: every replica
	// competes for its lock, the holder consumes.
	projector, err := analytics.New(store, log, analytics.Config{Wake: listener})
	if err != nil {
		return err
	}
	// Events take the database's time, so that replicas whose clocks
	// differ still agree on when things happened.
	clock := dbclock.New(pool, dbclock.Config{Log: log})
	workers := []worker{
		newWorker("event listener", listener),
		newWorker("append announcer", announcer),
		// It stores, after the loads, the states they found worth keeping.
		newWorker("snapshot writer", eventstore.NewSnapshotWriter(store, log)),
		newWorker("analytics consumer", projector),
		// Every replica purges expired idempotency keys; they skip each
		// other's rows.
		newWorker("idempotency key purge", runFunc(purgeIdempotencyKeys(store, log, idempotencyPurgeEvery))),
		newWorker("database clock", clock),
	}
	if len(standbys) > 0 {
		workers = append(workers, newWorker("standby health checks", reads))
	}
	// With a NATS server, every replica competes to publish the events;
	// the holder of the relay's lock does. NATS down or slow never
	// touches commands: the relay waits, retries and catches up.
	var projections app.AnalyticsStore = projector
	details := []func(context.Context) []httpapi.ReadyDetail{standbyDetails(reads)}
	if cfg.NATS.URL != "" {
		relay, err := newRelay(cfg, pool, store, listener, log)
		if err != nil {
			return err
		}
		workers = append(workers, newWorker("nats relay", relay))
		projections = projectionsAndRelay{Projector: projector, relay: relay}
		details = append(details, relayDetails(relay))
	}
	// A pool the workers would use up is refused before anything starts:
	// the service would run, and answer 503 to every request.
	if err := poolFits(pool.Config().MaxConns, workers); err != nil {
		return err
	}

	if err := prepareDatabase(ctx, cfg, pool, log, serveMigrateWait); err != nil {
		return err
	}
	if cfg.DebugAddr != "" {
		stop, err := serveDebug(cfg.DebugAddr, log)
		if err != nil {
			return err
		}
		defer stop()
	}
	// Events this build cannot decode (written by a newer release) would
	// fail every read that reached them: refuse to start instead.
	if _, err := store.CheckDecodable(ctx); err != nil {
		return fmt.Errorf("refusing to serve: %w (run a build that knows them)", err)
	}
	// So would data keys wrapped by a master key it was not given, or
	// any, with sealing off.
	if keyring == nil {
		err = checkSealingOff(ctx, pool)
	} else {
		err = checkMasterKeys(ctx, pool, masters, currentMasterKeyName(cfg))
	}
	if err != nil {
		return fmt.Errorf("refusing to serve: %w", err)
	}
	if err := clock.Sync(ctx); err != nil {
		return err
	}
	cursors, keyWait, err := cursorSigner(ctx, pool, log)
	if err != nil {
		return err
	}
	if keyWait != nil {
		workers = append(workers, newWorker("cursor key", keyWait))
	}
	// The workers use pooled connections, so they stop before the pool
	// closes (deferred after pool.Close, their stop runs before it).
	defer startAll(ctx, workers)()
	// A replica that does not listen is not ready (it would not hear of
	// erasures): give the listener a moment, so that one that starts is
	// ready as soon as it serves.
	select {
	case <-listener.Listened():
	case <-time.After(listenerStartWait):
	case <-ctx.Done():
	}

	limiter, limiterFailures, closeLimiter, err := rateLimiter(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer closeLimiter()

	// Metrics are always on: counted by the service and the HTTP layer,
	// the pool and the projections' lag read at each scrape.
	mx, err := metrics.New(metrics.Config{
		Pool:              pool,
		Projections:       projections,
		Snapshots:         func() metrics.SnapshotCounts { return metrics.SnapshotCounts(store.SnapshotStats()) },
		ClockSkew:         clock.Skew,
		LogLinesDropped:   droppedLogLines,
		UnreadableEvents:  store.UnreadableEvents,
		RateLimitFailures: limiterFailures,
		ReadSources:       readSources(reads, len(standbys)),
	})
	if err != nil {
		return err
	}
	// /metrics is on the API's listener unless it has one of its own,
	// which an operator may keep to the scrapers' network.
	apiMetrics := mx.Handler()
	if cfg.MetricsAddr != "" {
		mux := http.NewServeMux()
		mux.Handle("GET /metrics", mx.Handler())
		stop, err := serveAside("ORDERAPI_METRICS_ADDR", cfg.MetricsAddr, "metrics", httpapi.Secure(mux), log)
		if err != nil {
			return err
		}
		defer stop()
		apiMetrics = nil
	}

	svc, err := app.NewService(store, store, app.Config{
		DefaultCurrency: cfg.DefaultCurrency,
		Analytics:       projections,
		Wake:            listener,
		IdempotencyTTL:  cfg.IdempotencyTTL,
		Observer:        mx,
		StateCacheSize:  cfg.StateCache,
		Now:             clock.Now,
		ReadModels:      reads,
		Eraser:          erasure.New(store, erasure.Config{Announcer: announcer}),
	})
	if err != nil {
		return err
	}
	erasures.svc.Store(svc)
	// One reader of the global feed serves every live feed of this
	// replica, woken by the listener. It reads through the pool, so it
	// closes before the pool does.
	hub, err := feedhub.New(svc, log, feedhub.Config{Wake: listener})
	if err != nil {
		return err
	}
	defer hub.Close()

	// closing ends the live feeds when shutdown begins: Shutdown waits
	// for handlers to return, and a live feed would not on its own.
	closing := make(chan struct{})
	httpCfg := httpapi.Config{
		CORSOrigins:          cfg.CORSOrigins,
		Auth:                 verifier,
		Fingerprints:         fingerprints,
		Ready:                allReady(readyChecks(readiness.New(pool, log).Check, verifier.Ready, listener, keyring)...),
		ReadyDetails:         readyDetails(projector.Stalled, store.UnreadableEvents, details...),
		Feed:                 hub,
		Closing:              closing,
		FeedStreams:          cfg.FeedStreams,
		FeedStreamsPerClient: cfg.FeedStreamsPerClient,
		Observe:              mx.ObserveRequest,
		Metrics:              apiMetrics,
		Cursors:              cursors,
		Limiter:              limiter,
		CommandRate:          cfg.CommandRate,
		ReadRate:             cfg.ReadRate,
		DevTokens:            devTokens,
	}
	tr.http(&httpCfg)
	handler, err := httpapi.NewServer(svc, log, httpCfg)
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

// standbyDetails names for GET /readyz each standby out of rotation and
// why: not a readiness failure, as the primary answers its reads.
func standbyDetails(r *standby.Router) func(context.Context) []httpapi.ReadyDetail {
	return func(context.Context) []httpapi.ReadyDetail {
		var details []httpapi.ReadyDetail
		for _, s := range r.Stats().Standbys {
			if !s.InRotation {
				details = append(details, httpapi.ReadyDetail{Code: "standby_out_of_rotation", Detail: fmt.Sprintf(
					"%s is out of rotation (%s); the primary answers its reads", s.Name, s.Reason)})
			}
		}
		return details
	}
}

// readSources reads the router's figures for /metrics; nil, leaving them
// out, without standbys.
func readSources(r *standby.Router, standbys int) func() metrics.ReadSources {
	if standbys == 0 {
		return nil
	}
	return func() metrics.ReadSources {
		st := r.Stats()
		rs := metrics.ReadSources{PrimaryReads: st.PrimaryReads, Standbys: make([]metrics.StandbyState, len(st.Standbys))}
		for i, s := range st.Standbys {
			rs.Standbys[i] = metrics.StandbyState{Name: s.Name, InRotation: s.InRotation, Lag: s.Lag, LagBytes: s.LagBytes,
				Reads: s.Reads, FellBehind: s.FellBehind, Failed: s.Failed}
		}
		return rs
	}
}
