package main

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/orderapi/orderapi/internal/adapters/cloudevent"
	"github.com/orderapi/orderapi/internal/adapters/httpapi"
	"github.com/orderapi/orderapi/internal/adapters/natsrelay"
	"github.com/orderapi/orderapi/internal/adapters/postgres"
	"github.com/orderapi/orderapi/internal/adapters/postgres/analytics"
	"github.com/orderapi/orderapi/internal/adapters/postgres/eventstore"
	"github.com/orderapi/orderapi/internal/app"
	"github.com/rs/zerolog"
)

// natsSetupWait bounds `orderapi nats setup`.
const natsSetupWait = 30 * time.Second

// streamConfig is the stream the configuration names.
func (c natsConfig) streamConfig() natsrelay.StreamConfig {
	return natsrelay.StreamConfig{Name: c.Stream, SubjectPrefix: c.SubjectPrefix, MaxAge: c.MaxAge,
		MaxBytes: c.MaxBytes, Replicas: c.Replicas, DuplicateWindow: c.DuplicateWindow}
}

// runNATS is `orderapi nats setup`: create the stream, or bring an
// existing one's limits to the configuration, ahead of a deploy. It never
// deletes a stream.
func runNATS(ctx context.Context, cfg config, args []string, stdout io.Writer) error {
	if len(args) != 1 || args[0] != "setup" {
		return errors.New("usage: orderapi nats setup")
	}
	if cfg.NATS.URL == "" {
		return errors.New("orderapi nats setup needs ORDERAPI_NATS_URL")
	}
	ctx, cancel := context.WithTimeout(ctx, natsSetupWait)
	defer cancel()
	nc, err := natsrelay.Connect(cfg.NATS.URL, "orderapi nats setup")
	if err != nil {
		return err
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		return err
	}
	sc := cfg.NATS.streamConfig()
	did, err := natsrelay.SetupStream(ctx, js, sc)
	if err != nil {
		return fmt.Errorf("nats setup: %w", err)
	}
	fmt.Fprintf(stdout, "stream %s (subjects %s.>): %s\n", cmp.Or(sc.Name, natsrelay.DefaultStream),
		cmp.Or(sc.SubjectPrefix, natsrelay.DefaultSubjectPrefix), did)
	return nil
}

// newRelay is the NATS relay of serve, elected by its own lock.
func newRelay(cfg config, pool *pgxpool.Pool, store *eventstore.Store, wake app.Waker, log zerolog.Logger) (*natsrelay.Relay, error) {
	lock := postgres.NewLock(pool, postgres.LockConfig{Key: postgres.RelayLockKey, Name: "nats relay", Log: log})
	return natsrelay.New(store, lock, log, natsrelay.Config{
		URL:    cfg.NATS.URL,
		Stream: cfg.NATS.streamConfig(),
		Encode: func(e app.RecordedEvent) ([]byte, error) { return cloudevent.Encode(e, cfg.NATS.Source) },
		Wake:   wake,
		Lag:    store,
	})
}

// projectionsAndRelay is the analytics store whose report of the
// projections also lists the NATS relay, named "nats".
type projectionsAndRelay struct {
	*analytics.Projector
	relay *natsrelay.Relay
}

func (p projectionsAndRelay) Projections(ctx context.Context) (app.ProjectionsReport, error) {
	r, err := p.Projector.Projections(ctx)
	if err != nil {
		return r, err
	}
	if st, ok, err := p.relay.Progress(ctx); err == nil && ok {
		r.Projections = append(r.Projections, st)
	}
	return r, nil
}

// relayLagShown is the lag from which /readyz lists the relay as behind.
const relayLagShown = 10 * time.Second

// relayDetails lists for /readyz what an operator should know of the
// relay, never making the replica unready (the API works without NATS):
// this replica cannot reach NATS, the relay is stopped before an event,
// or it is behind the feed, by the lag last measured (a metrics scrape or
// GET /v1/projections measures it).
func relayDetails(r *natsrelay.Relay) func(context.Context) []httpapi.ReadyDetail {
	return func(ctx context.Context) []httpapi.ReadyDetail {
		var details []httpapi.ReadyDetail
		if !r.Connected() {
			details = append(details, httpapi.ReadyDetail{Code: "nats_unreachable",
				Detail: "this replica cannot reach NATS (ORDERAPI_NATS_URL); the events are published once it can"})
		}
		if st, _ := r.Stalled(ctx); st != nil {
			details = append(details, httpapi.ReadyDetail{Code: "projection_stalled", Detail: st.Describe(natsrelay.Name)})
		}
		if st, ok := r.LastProgress(); ok && st.LagEvents > 0 && st.Lag >= relayLagShown {
			details = append(details, httpapi.ReadyDetail{Code: "nats_lagging", Detail: fmt.Sprintf(
				"the NATS stream is %d events and %.0f seconds behind the feed", st.LagEvents, st.Lag.Seconds())})
		}
		return details
	}
}
