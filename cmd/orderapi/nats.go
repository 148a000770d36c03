package main

import (
	"cmp"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"time"

	"github.com/google/uuid"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/orderapi/orderapi/internal/adapters/cloudevent"
	"github.com/orderapi/orderapi/internal/adapters/httpapi"
	"github.com/orderapi/orderapi/internal/adapters/natsrelay"
	"github.com/orderapi/orderapi/internal/adapters/postgres"
	"github.com/orderapi/orderapi/internal/adapters/postgres/analytics"
	"github.com/orderapi/orderapi/internal/adapters/postgres/codec"
	"github.com/orderapi/orderapi/internal/adapters/postgres/eventstore"
	"github.com/orderapi/orderapi/internal/adapters/postgres/relaystate"
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

// runNATS is `orderapi nats setup|resume`.
func runNATS(ctx context.Context, cfg config, args []string, stdout io.Writer) error {
	if len(args) == 0 || (args[0] != "setup" && args[0] != "resume") {
		return errors.New("usage: orderapi nats setup | orderapi nats resume --after <event id> | --from-start")
	}
	if cfg.NATS.URL == "" {
		return fmt.Errorf("orderapi nats %s needs ORDERAPI_NATS_URL", args[0])
	}
	ctx, cancel := context.WithTimeout(ctx, natsSetupWait)
	defer cancel()
	if args[0] == "resume" {
		return natsResume(ctx, cfg, args[1:], stdout)
	}
	if len(args) != 1 {
		return fmt.Errorf("nats setup takes no argument, got %q", args[1:])
	}
	js, done, err := natsConnect(cfg, "orderapi nats setup")
	if err != nil {
		return err
	}
	defer done()
	sc := cfg.NATS.streamConfig()
	did, err := natsrelay.SetupStream(ctx, js, sc)
	if err != nil {
		return fmt.Errorf("nats setup: %w", err)
	}
	fmt.Fprintf(stdout, "stream %s (subjects %s.>): %s\n", cmp.Or(sc.Name, natsrelay.DefaultStream),
		cmp.Or(sc.SubjectPrefix, natsrelay.DefaultSubjectPrefix), did)
	return nil
}

// natsConnect connects to the configured NATS servers.
func natsConnect(cfg config, name string) (jetstream.JetStream, func(), error) {
	nc, err := natsrelay.Connect(cfg.NATS.URL, name)
	if err != nil {
		return nil, nil, err
	}
	js, err := jetstream.New(nc)
	if err != nil {
		nc.Close()
		return nil, nil, err
	}
	return js, nc.Close, nil
}

// resumeLooksBack is how many of the stream's newest messages resume
// reads to find the last event the stream holds.
const resumeLooksBack = 1000

// natsResume is `orderapi nats resume`: an operator's decision of where
// the relay goes on, after it stopped at a stream that disagrees with its
// checkpoint (stream_mismatch) or before an event this build cannot
// decode. The relay publishes the events after the one named (or every
// event, --from-start), each after the stream's present last message.
// The event must be in this database's feed. Without --force it refuses
// a relay that is not stopped so, and a point that would publish again,
// or leave out, events the stream shows it holds.
func natsResume(ctx context.Context, cfg config, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("orderapi nats resume", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	after := fs.String("after", "", "the id of the last event the stream holds")
	fromStart := fs.Bool("from-start", false, "publish every event")
	force := fs.Bool("force", false, "resume whatever the relay's state and the stream's content")
	if err := fs.Parse(args); err != nil {
		return fmt.Errorf("nats resume: %w", err)
	}
	if fs.NArg() > 0 || (*after == "") == !*fromStart {
		return errors.New("usage: orderapi nats resume --after <event id> | --from-start [--force]")
	}
	pool, keyring, err := openKeyed(ctx, cfg, zerolog.Nop())
	if err != nil {
		return err
	}
	defer pool.Close()
	store := eventstore.New(pool, eventstore.Config{DefaultCurrency: cfg.DefaultCurrency, Keyring: keyring})
	records := relaystate.New(pool)
	sc := cfg.NATS.streamConfig()
	sc.Name = cmp.Or(sc.Name, natsrelay.DefaultStream)
	var cp app.BrokerCheckpoint
	var id uuid.UUID
	what := "every event, from the feed's start"
	if *after != "" {
		if id, err = uuid.Parse(*after); err != nil {
			return fmt.Errorf("nats resume: --after %q is not an event id", *after)
		}
		if cp.Cursor, err = feedCursorOf(ctx, store, id); err != nil {
			return fmt.Errorf("nats resume: %w", err)
		}
		what = fmt.Sprintf("the events after %s (position %d)", id, cp.Cursor.Position)
	}
	js, done, err := natsConnect(cfg, "orderapi nats resume")
	if err != nil {
		return err
	}
	defer done()
	if !*force {
		rec, err := records.Load(ctx, sc.Name)
		if err != nil {
			return err
		}
		if err := resumable(ctx, store, js, sc, rec, cp.Cursor, id, *fromStart); err != nil {
			return fmt.Errorf("nats resume: %w (--force to do it anyway)", err)
		}
	}
	if cp.Sequence, cp.EventID, err = natsrelay.StreamTail(ctx, js, sc); err != nil {
		return fmt.Errorf("nats resume: %w", err)
	}
	if _, err := records.Resume(ctx, sc.Name, cp); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "stream %s: the relay publishes %s, following the stream's message %d\n", sc.Name, what, cp.Sequence)
	return nil
}

// resumable says whether an operator may, without --force, send the
// relay of stream sc on after the event at cursor c (id; or from the
// feed's start): only a relay stopped where an operator must decide, and
// only at the point its record supports, so that nothing is published
// twice or left out. With a checkpoint that is the checkpoint's event
// (the stream's messages after it are someone else's), or the event it
// is stopped before when that one cannot be decoded (skipping it), or the
// feed's start when the stream holds no message (deleted and made
// again). Without one (a stream filled before the relay kept
// checkpoints, or by another database), it is the newest event the
// stream holds.
func resumable(ctx context.Context, store *eventstore.Store, js jetstream.JetStream, sc natsrelay.StreamConfig,
	rec app.BrokerState, c app.FeedCursor, id uuid.UUID, fromStart bool) error {
	if rec.Stopped == nil || (rec.Stopped.Code != natsrelay.StopStreamMismatch && rec.Stopped.Code != app.StallEventUnreadable) {
		state := "publishing"
		switch {
		case rec.Stopped != nil:
			state = "stopped: " + rec.Stopped.Code
		case !rec.Taken:
			state = "without a record in this database"
		}
		return fmt.Errorf("the relay of stream %s is %s, not stopped where an operator must decide (stream_mismatch or event_unreadable); "+
			"resume only tells a stopped relay where to go on", sc.Name, state)
	}
	if !rec.Taken {
		known := func(id uuid.UUID) (bool, error) {
			_, ok, err := store.EventCursor(ctx, id)
			return ok, err
		}
		seq, last, found, err := natsrelay.LastEvent(ctx, js, sc, known, resumeLooksBack)
		if err != nil || !found || (!fromStart && last == id) {
			return err
		}
		return fmt.Errorf("the newest event stream %s holds is %s (message %d); `--after %s` goes on right after it, "+
			"and any other point publishes again, or leaves out, the events between", sc.Name, last, seq, last)
	}
	at := rec.Checkpoint.Cursor
	if !fromStart && (c == at || (rec.Stopped.Code == app.StallEventUnreadable && id == rec.Stopped.EventID)) {
		return nil
	}
	if fromStart {
		last, _, err := natsrelay.StreamTail(ctx, js, sc)
		if err != nil || at == (app.FeedCursor{}) || last == 0 {
			return err
		}
	}
	if at == (app.FeedCursor{}) {
		return fmt.Errorf("the relay's checkpoint is the feed's start: `--from-start` goes on from there, publishing nothing twice and leaving nothing out")
	}
	e, ok, err := feedEventAt(ctx, store, at)
	if err != nil {
		return err
	}
	if !ok {
		return fmt.Errorf("the relay's checkpoint (position %d) is not in the feed", at.Position)
	}
	hint := ""
	if rec.Stopped.Code == app.StallEventUnreadable {
		hint = fmt.Sprintf("; `--after %s` skips the event it cannot decode", rec.Stopped.EventID)
	}
	return fmt.Errorf("the last event the relay published to stream %s is %s (position %d, its checkpoint): `--after %s` goes on right after it, "+
		"stepping over what others put in the stream, and any other point publishes again, or leaves out, the events between%s",
		sc.Name, e.EventID, at.Position, e.EventID, hint)
}

// feedCursorOf is the feed cursor of event id, once the feed shows it: an
// event above the watermark (an older transaction still open) would let
// the relay pass events that are yet to appear below it.
func feedCursorOf(ctx context.Context, store *eventstore.Store, id uuid.UUID) (app.FeedCursor, error) {
	c, ok, err := store.EventCursor(ctx, id)
	if err != nil {
		return c, err
	}
	if !ok {
		return c, fmt.Errorf("no event %s in this database", id)
	}
	e, ok, err := feedEventAt(ctx, store, c)
	if err != nil {
		return c, err
	}
	if !ok || e.EventID != id {
		return c, fmt.Errorf("event %s is not in the feed yet (an older transaction is still open); try again once it ends", id)
	}
	return c, nil
}

// newRelay is the NATS relay of serve, elected by its own lock.
func newRelay(cfg config, pool *pgxpool.Pool, store *eventstore.Store, wake app.Waker, log zerolog.Logger) (*natsrelay.Relay, error) {
	lock := postgres.NewLock(pool, postgres.LockConfig{Key: postgres.RelayLockKey, Name: "nats relay", Log: log})
	return natsrelay.New(store, lock, log, natsrelay.Config{
		URL:              cfg.NATS.URL,
		Stream:           cfg.NATS.streamConfig(),
		Encode:           func(e app.RecordedEvent) ([]byte, error) { return cloudevent.Encode(e, cfg.NATS.Source) },
		PersonalFields:   codec.PersonalFields,
		SealPersonalData: cfg.NATS.PersonalData == personalDataSealed,
		Checkpoints:      relaystate.New(pool),
		Wake:             wake,
		Lag:              store,
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
	st, err := p.relay.Progress(ctx)
	if err != nil {
		return r, err
	}
	r.Projections = append(r.Projections, st)
	return r, nil
}

// relayLagShown is the lag from which /readyz lists the relay as behind.
const relayLagShown = 10 * time.Second

// relayDetails lists for /readyz what an operator should know of the
// relay, never making the replica unready (the API works without NATS):
// this replica cannot reach NATS, the relay is stopped (before an event,
// or for a reason its code names, as recorded by whichever replica holds
// it), or it is behind the feed, by the lag last measured (a metrics
// scrape or GET /v1/projections measures it).
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

// feedEventAt is the event at cursor c as the feed shows it: false when
// the feed does not show it yet (above the watermark) or at all.
func feedEventAt(ctx context.Context, store *eventstore.Store, c app.FeedCursor) (app.RecordedEvent, bool, error) {
	page, err := store.ReadFeed(ctx, app.FeedQuery{After: app.FeedCursor{TransactionID: c.TransactionID, Position: c.Position - 1}, Limit: 1})
	if err != nil || len(page) == 0 || app.CursorOf(page[0]) != c {
		return app.RecordedEvent{}, false, err
	}
	return page[0], true, nil
}
