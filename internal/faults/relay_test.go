//go:build faults

package faults

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/orderapi/orderapi/internal/adapters/natsrelay/natstest"
)

const (
	// natsOutage is how long the NATS server stays down, writes going on.
	natsOutage = 3 * time.Second
	// heldFor is how long a writer keeps its transaction open after the
	// others have committed acksPerPhase commands past it.
	heldFor = 2 * time.Second
	// takeoverWithin bounds how soon the other replica publishes after
	// the relay's holder is killed: its lock retry is 1s.
	takeoverWithin = 10 * time.Second
	// streamWait bounds the wait for the stream to hold the whole feed.
	streamWait = 60 * time.Second
)

// TestRelayFaults runs the real binary with ORDERAPI_NATS_URL set, under
// concurrent commands, and meanwhile kills the replica that publishes to
// NATS, restarts the NATS server, and holds a writer's transaction open
// (the feed waits for it). After each, every event of the feed is on the
// stream exactly once, in the feed's order.
func TestRelayFaults(t *testing.T) {
	began := time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	bin, pg := binaryAndCluster(t)
	t.Logf("binary built and cluster up in %s", time.Since(began).Round(time.Millisecond))
	scenarios := []struct {
		name string
		run  func(t *testing.T, ctx context.Context, r *relayRig)
	}{
		{"holder_killed", relayHolderKilled},
		{"nats_restarted", relayNATSRestarted},
		{"write_held_open", relayWriteHeld},
	}
	for i, sc := range scenarios {
		t.Run(sc.name, func(t *testing.T) {
			began := time.Now()
			sc.run(t, ctx, newRelayRig(t, ctx, bin, pg, fmt.Sprintf("relay%d", i)))
			t.Logf("done in %s", time.Since(began).Round(time.Millisecond))
		})
	}
}

// relayRig is a scenario's database on the cluster and stream on NATS.
type relayRig struct {
	bin, dbURL string
	pool       *pgxpool.Pool
	// natsURL is set by the scenario: the machine's server or its own.
	natsURL  string
	names    natstest.Names
	services []*service
}

func newRelayRig(t *testing.T, ctx context.Context, bin string, pg *pgCluster, db string) *relayRig {
	t.Helper()
	if err := pg.createDB(ctx, db); err != nil {
		t.Fatal(err)
	}
	pool, err := pgxpool.New(ctx, pg.url(db))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	r := &relayRig{bin: bin, dbURL: pg.url(db), pool: pool}
	t.Cleanup(func() {
		if !t.Failed() {
			return
		}
		for i, s := range r.services {
			t.Logf("replica %d's last log lines:\n%s", i+1, s.logTail())
		}
		t.Logf("the database's last log lines:\n%s", pg.logTail())
	})
	return r
}

// useNATS names the server and a stream and prefix of the scenario's own.
func (r *relayRig) useNATS(t *testing.T, url string) {
	r.natsURL, r.names = url, natstest.Unique(t, url)
}

// replica starts one more orderapi serve on the database, publishing to
// the scenario's stream.
func (r *relayRig) replica(t *testing.T, ctx context.Context) *service {
	t.Helper()
	// Replicas of one database share its master key, as every
	// deployment's must.
	dir := filepath.Join(t.TempDir(), "orderapi-dev")
	if len(r.services) > 0 {
		dir = r.services[0].devDir
	}
	s := newServiceIn(t, r.bin, r.dbURL, dir)
	s.env = []string{"ORDERAPI_NATS_URL=" + r.natsURL, "ORDERAPI_NATS_STREAM=" + r.names.Stream,
		"ORDERAPI_NATS_SUBJECT_PREFIX=" + r.names.Prefix}
	r.services = append(r.services, s)
	if err := s.start(ctx); err != nil {
		t.Fatal(err)
	}
	return s
}

// loadOn starts the workers on the client; the returned end stops them,
// waits for their last commands and fails the test on a worker's error.
func loadOn(t *testing.T, ctx context.Context, c *client) (errs chan error, end func()) {
	stop := make(chan struct{})
	errs = make(chan error, workers)
	running := load(ctx, c, workers, stop, errs)
	var once sync.Once
	end = func() {
		once.Do(func() {
			close(stop)
			running.Wait()
			close(errs)
			for err := range errs {
				t.Error(err)
			}
		})
	}
	t.Cleanup(end)
	return errs, end
}

// relayHolderKilled: two replicas; the one holding the relay's lock is
// killed with SIGKILL mid-stream, and the other takes over.
func relayHolderKilled(t *testing.T, ctx context.Context, r *relayRig) {
	// Given two replicas publishing to one stream, one of them the holder
	r.useNATS(t, natstest.URL(t))
	a := r.replica(t, ctx)
	b := r.replica(t, ctx)
	holder, other := awaitHolder(t, a, b)
	// And commands sent to the other one
	c := newClient(other.base(), other.token)
	errs, end := loadOn(t, ctx, c)

	// When the holder is killed with SIGKILL mid-stream
	awaitAcks(t, ctx, c, errs, acksPerPhase)
	atKill := lastSeq(t, ctx, r)
	killed := time.Now()
	holder.kill()

	// Then the other replica takes the relay over within seconds
	took := awaitLog(t, ctx, other, "nats relay lock taken", 0).Sub(killed)
	if took > takeoverWithin {
		t.Errorf("the other replica took the relay over %s after the kill, want within %s", took.Round(time.Millisecond), takeoverWithin)
	}
	awaitAcks(t, ctx, c, errs, acksPerPhase)
	end()

	// And the stream holds the whole feed, once each, in order
	n, caughtUp := checkRelayed(t, ctx, c, r, other)
	t.Logf("holder killed at stream sequence %d; the other replica took over in %s; %d events, on the stream %s after the load ended",
		atKill, took.Round(time.Millisecond), n, caughtUp.Round(time.Millisecond))
}

// relayNATSRestarted: the NATS server is stopped mid-stream, commands go
// on, and it is started again on its port with its store.
func relayNATSRestarted(t *testing.T, ctx context.Context, r *relayRig) {
	// Given a NATS server of the scenario's own, and a replica on it
	srv := natstest.Start(t, 0)
	r.useNATS(t, srv.URL)
	svc := r.replica(t, ctx)
	awaitHolder(t, svc)
	c := newClient(svc.base(), svc.token)
	errs, end := loadOn(t, ctx, c)

	// When the server stops mid-stream while commands go on
	awaitAcks(t, ctx, c, errs, acksPerPhase)
	atStop := lastSeq(t, ctx, r)
	srv.Stop()
	before := c.acked.Load()
	time.Sleep(natsOutage)
	during := c.acked.Load() - before

	// Then commands were acknowledged all along
	if during == 0 {
		t.Errorf("no command was acknowledged in the %s NATS was down", natsOutage)
	}

	// When it starts again on its port, with its store
	restarted := time.Now()
	srv.Restart(t)
	awaitAcks(t, ctx, c, errs, acksPerPhase)
	end()

	// Then the relay catches up: the whole feed, once each, in order
	n, caughtUp := checkRelayed(t, ctx, c, r, svc)
	t.Logf("NATS stopped at stream sequence %d for %s, %d commands acknowledged meanwhile; %d events, on the stream %s after "+
		"the load ended, %s after the restart", atStop, natsOutage, during, n, caughtUp.Round(time.Millisecond),
		time.Since(restarted).Round(time.Millisecond))
}

// relayWriteHeld: a writer inserts an event and keeps its transaction
// open while others commit after it; the feed, hence the relay, waits for
// it rather than pass it, and publishes it in its place once it commits.
func relayWriteHeld(t *testing.T, ctx context.Context, r *relayRig) {
	// Given a replica publishing to the machine's server, under load
	r.useNATS(t, natstest.URL(t))
	svc := r.replica(t, ctx)
	awaitHolder(t, svc)
	c := newClient(svc.base(), svc.token)
	errs, end := loadOn(t, ctx, c)
	awaitAcks(t, ctx, c, errs, acksPerPhase)

	// When a writer has inserted an event and holds its transaction open
	tx, err := r.pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = tx.Rollback(context.Background()) }()
	late, err := insertLate(ctx, tx)
	if err != nil {
		t.Fatal(err)
	}
	// while others commit after it
	awaitAcks(t, ctx, c, errs, acksPerPhase)
	time.Sleep(heldFor)

	// Then the stream stops before the open transaction's event
	held := lastCursor(t, ctx, r)
	if !held.before(late.cursor) {
		t.Fatalf("while a writer's event at transaction %d, position %d was uncommitted, the stream reached transaction %d, position %d",
			late.xid, late.position, held.xid, held.position)
	}

	// When the writer commits
	if err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	awaitAcks(t, ctx, c, errs, acksPerPhase)
	end()

	// Then the stream holds its event too: the whole feed, once, in order
	n, caughtUp := checkRelayed(t, ctx, c, r, svc)
	t.Logf("writer held open %s past %d commits (the stream waited at transaction %d, position %d, before its %d, %d); "+
		"%d events, on the stream %s after the load ended", heldFor, acksPerPhase, held.xid, held.position, late.xid, late.position,
		n, caughtUp.Round(time.Millisecond))
}

// awaitHolder waits until exactly one of the replicas has taken the
// relay's lock, and returns it, then the others.
func awaitHolder(t *testing.T, replicas ...*service) (*service, *service) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		var holders, others []*service
		for _, s := range replicas {
			if len(s.logLines("nats relay lock taken")) > 0 {
				holders = append(holders, s)
			} else {
				others = append(others, s)
			}
		}
		switch {
		case len(holders) > 1:
			t.Fatalf("%d replicas took the relay's lock", len(holders))
		case len(holders) == 1:
			others = append(others, nil)
			return holders[0], others[0]
		case time.Now().After(deadline):
			t.Fatal("no replica took the relay's lock within 30s")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// cursor is a place in the feed: (transaction id, position) orders it.
type cursor struct {
	xid      uint64
	position int64
}

func (c cursor) before(d cursor) bool {
	return c.xid < d.xid || c.xid == d.xid && c.position < d.position
}

// lateEvent is an event written by a transaction the test holds.
type lateEvent struct {
	cursor
	id uuid.UUID
}

// insertLate writes the first event of a new order in tx, as a writer in
// the middle of its transaction does.
func insertLate(ctx context.Context, tx pgx.Tx) (lateEvent, error) {
	const sql = `
INSERT INTO events (event_id, stream_id, stream_version, event_type, data, occurred_at)
VALUES ($1, $2, 1, 'OrderCreated', $3::jsonb, now())
RETURNING position, transaction_id`
	orderID := uuid.New()
	e := lateEvent{id: uuid.Must(uuid.NewV7())}
	data := fmt.Sprintf(`{"order_id":%q,"customer_id":%q,"currency":"USD"}`, orderID, customers[0])
	err := tx.QueryRow(ctx, sql, e.id, orderID, data).Scan(&e.position, &e.xid)
	return e, err
}

// stream is the scenario's stream on its NATS server.
func (r *relayRig) stream(t *testing.T, ctx context.Context) jetstream.Stream {
	t.Helper()
	_, js := natstest.JetStream(t, r.natsURL)
	s, err := js.Stream(ctx, r.names.Stream)
	if err != nil {
		t.Fatalf("stream %s: %v", r.names.Stream, err)
	}
	return s
}

// lastSeq is the stream's last sequence now.
func lastSeq(t *testing.T, ctx context.Context, r *relayRig) uint64 {
	t.Helper()
	info, err := r.stream(t, ctx).Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	return info.State.LastSeq
}

// lastCursor is the feed cursor of the stream's last message.
func lastCursor(t *testing.T, ctx context.Context, r *relayRig) cursor {
	t.Helper()
	s := r.stream(t, ctx)
	info, err := s.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if info.State.LastSeq == 0 {
		return cursor{}
	}
	m, err := s.GetMsg(ctx, info.State.LastSeq)
	if err != nil {
		t.Fatal(err)
	}
	ce, err := cloudEventOf(m)
	if err != nil {
		t.Fatal(err)
	}
	return ce.cursor
}

// relayed is what the checks read of a message's CloudEvent.
type relayed struct {
	id string
	cursor
}

func cloudEventOf(m *jetstream.RawStreamMsg) (relayed, error) {
	var ce struct {
		ID       string `json:"id"`
		TxID     string `json:"orderapitxid"`
		Position string `json:"orderapiposition"`
	}
	if err := json.Unmarshal(m.Data, &ce); err != nil {
		return relayed{}, fmt.Errorf("message %d: %w", m.Sequence, err)
	}
	xid, err1 := strconv.ParseUint(ce.TxID, 10, 64)
	pos, err2 := strconv.ParseInt(ce.Position, 10, 64)
	if err1 != nil || err2 != nil {
		return relayed{}, fmt.Errorf("message %d: orderapitxid %q, orderapiposition %q", m.Sequence, ce.TxID, ce.Position)
	}
	return relayed{id: ce.ID, cursor: cursor{xid: xid, position: pos}}, nil
}

// checkRelayed: the feed holds every stored event once, in the table's
// (transaction id, position) order; the stream holds the feed, message
// for message in sequence order, each message's Nats-Msg-Id its
// CloudEvent's id; and the service logged no error. It returns the
// number of events and how long the stream took to hold them all.
func checkRelayed(t *testing.T, ctx context.Context, c *client, r *relayRig, svc *service) (int, time.Duration) {
	t.Helper()
	events, err := readEvents(ctx, r.pool)
	if err != nil {
		t.Fatal(err)
	}
	feed, err := readFeed(ctx, c)
	if err != nil {
		t.Fatal(err)
	}
	checkOnce(t, "the feed read from the start", feed, events)
	rows, err := r.pool.Query(ctx, `SELECT event_id::text FROM events ORDER BY transaction_id, position`)
	if err != nil {
		t.Fatal(err)
	}
	table, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	if i := firstDiff(feed, table); i >= 0 {
		t.Fatalf("the feed's event %d is %s, the table's by (transaction id, position) %s", i, at(feed, i), at(table, i))
	}

	began := time.Now()
	s := r.stream(t, ctx)
	var info *jetstream.StreamInfo
	for {
		if info, err = s.Info(ctx); err != nil {
			t.Fatal(err)
		}
		if info.State.LastSeq >= uint64(len(feed)) {
			break
		}
		if time.Since(began) > streamWait {
			t.Fatalf("the stream holds %d messages %s after the load ended, the feed %d events", info.State.LastSeq, streamWait, len(feed))
		}
		time.Sleep(50 * time.Millisecond)
	}
	caughtUp := time.Since(began)
	// What the relay might still have in flight would show now.
	time.Sleep(500 * time.Millisecond)
	if info, err = s.Info(ctx); err != nil {
		t.Fatal(err)
	}
	if info.State.FirstSeq != 1 || info.State.Msgs != info.State.LastSeq {
		t.Errorf("the stream holds %d messages, sequences %d to %d: some were removed", info.State.Msgs, info.State.FirstSeq, info.State.LastSeq)
	}
	ids := make([]string, 0, info.State.LastSeq)
	for seq := uint64(1); seq <= info.State.LastSeq; seq++ {
		m, err := s.GetMsg(ctx, seq)
		if err != nil {
			t.Fatalf("message %d: %v", seq, err)
		}
		ce, err := cloudEventOf(m)
		if err != nil {
			t.Fatal(err)
		}
		if id := m.Header.Get(jetstream.MsgIDHeader); id != ce.id {
			t.Errorf("message %d: Nats-Msg-Id %s, CloudEvent id %s", seq, id, ce.id)
		}
		ids = append(ids, ce.id)
	}
	checkOnce(t, "the stream", ids, events)
	if i := firstDiff(ids, feed); i >= 0 {
		t.Errorf("stream sequence %d holds %s, the feed's event %d is %s", i+1, at(ids, i), i, at(feed, i))
	}
	for _, line := range svc.logLines(`"level":"error"`) {
		t.Errorf("the service logged an error: %s", line)
	}
	return len(feed), caughtUp
}

// firstDiff is the first index where a and b differ, -1 if they are equal.
func firstDiff(a, b []string) int {
	for i := range max(len(a), len(b)) {
		if i >= len(a) || i >= len(b) || a[i] != b[i] {
			return i
		}
	}
	return -1
}

func at(ids []string, i int) string {
	if i < len(ids) {
		return ids[i]
	}
	return "nothing"
}
