package main

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// The broker relay's pair of scenarios, run with BENCH_NATS_URL set: the
// same add item against two servers on two fresh databases of their
// own, one without ORDERAPI_NATS_URL and one with it, so that nothing
// but the relay tells them apart.
const (
	relayOffName = "add item (relay off)"
	relayOnName  = "add item (relay on)"
)

// relayBench is the relay-on server's stream and the nats-server process
// whose CPU is counted beside the server's and the database's.
type relayBench struct {
	url, stream, prefix string
	natsPID             int
}

// newRelayBench names a stream and subject prefix of this run's own and
// finds the nats-server listening at the URL's port on this machine (0
// when it is elsewhere: its CPU is then not counted).
func newRelayBench(natsURL string) (*relayBench, error) {
	suffix := make([]byte, 4)
	if _, err := rand.Read(suffix); err != nil {
		return nil, err
	}
	tag := hex.EncodeToString(suffix)
	r := &relayBench{url: natsURL, stream: "ORDERBENCH_" + strings.ToUpper(tag), prefix: "orderbench." + tag}
	first := strings.Split(natsURL, ",")[0]
	if u, err := url.Parse(first); err == nil {
		port, _ := strconv.Atoi(or(u.Port(), "4222"))
		r.natsPID = listenerPID(port)
	}
	return r, nil
}

// env is the relay-on server's settings.
func (r *relayBench) env() []string {
	return []string{"ORDERAPI_NATS_URL=" + r.url, "ORDERAPI_NATS_STREAM=" + r.stream, "ORDERAPI_NATS_SUBJECT_PREFIX=" + r.prefix}
}

// create makes the stream with the binary's own `orderapi nats setup`,
// as a deploy does.
func (r *relayBench) create(ctx context.Context, bin, databaseURL string) error {
	cmd := exec.CommandContext(ctx, bin, "nats", "setup")
	cmd.Env = append(os.Environ(), "DATABASE_URL="+databaseURL)
	cmd.Env = append(cmd.Env, r.env()...)
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("%s nats setup: %w\n%s", bin, err, out)
	}
	return nil
}

// jetStream connects to the broker for the stream's figures and its
// deletion.
func (r *relayBench) jetStream() (*nats.Conn, jetstream.JetStream, error) {
	nc, err := nats.Connect(r.url, nats.Timeout(5*time.Second))
	if err != nil {
		return nil, nil, fmt.Errorf("connect to %s: %w", r.url, err)
	}
	js, err := jetstream.New(nc)
	if err != nil {
		nc.Close()
		return nil, nil, err
	}
	return nc, js, nil
}

// messages is how many messages the stream holds.
func (r *relayBench) messages(ctx context.Context) (uint64, error) {
	nc, js, err := r.jetStream()
	if err != nil {
		return 0, err
	}
	defer nc.Close()
	s, err := js.Stream(ctx, r.stream)
	if err != nil {
		return 0, fmt.Errorf("stream %s: %w", r.stream, err)
	}
	info, err := s.Info(ctx)
	if err != nil {
		return 0, err
	}
	return info.State.Msgs, nil
}

// remove deletes the run's stream, even after an interrupt.
func (r *relayBench) remove() error {
	nc, js, err := r.jetStream()
	if err != nil {
		return err
	}
	defer nc.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := js.DeleteStream(ctx, r.stream); err != nil && err != jetstream.ErrStreamNotFound {
		return fmt.Errorf("delete stream %s: %w", r.stream, err)
	}
	return nil
}

// relayLag is the relay's lag as GET /v1/projections shows it.
type relayLag struct {
	Events  int64   `json:"lag_events"`
	Seconds float64 `json:"lag_seconds"`
}

func (s *server) relayLag() (relayLag, error) {
	b, err := s.get("/v1/projections")
	if err != nil {
		return relayLag{}, err
	}
	var p struct {
		Projections []struct {
			Name string `json:"name"`
			relayLag
		} `json:"projections"`
	}
	if err := json.Unmarshal(b, &p); err != nil {
		return relayLag{}, fmt.Errorf("GET /v1/projections: %w", err)
	}
	for _, pr := range p.Projections {
		if pr.Name == "nats" {
			return pr.relayLag, nil
		}
	}
	return relayLag{}, fmt.Errorf("GET /v1/projections: no nats entry")
}

// lagSampleEvery is how often the lag is read during a measurement: a
// few requests a second, next to thousands of commands.
const lagSampleEvery = 200 * time.Millisecond

// sampleLag reads the relay's lag until stop is closed and returns the
// largest seen (events and seconds each).
func sampleLag(s *server, stop <-chan struct{}) (worst relayLag, err error) {
	t := time.NewTicker(lagSampleEvery)
	defer t.Stop()
	for {
		l, lerr := s.relayLag()
		if lerr != nil && err == nil {
			err = lerr
		}
		worst.Events, worst.Seconds = max(worst.Events, l.Events), max(worst.Seconds, l.Seconds)
		select {
		case <-stop:
			return worst, err
		case <-t.C:
		}
	}
}

// drainWait bounds the wait for the relay to catch up after a
// measurement.
const drainWait = 60 * time.Second

// drain waits until the relay has published every committed event and
// says how long that took; the lag right after the window is the first
// reading.
func drain(ctx context.Context, s *server) (time.Duration, relayLag, error) {
	t0 := time.Now()
	var first relayLag
	for i := 0; ; i++ {
		l, err := s.relayLag()
		if err != nil {
			return 0, first, err
		}
		if i == 0 {
			first = l
		}
		if l.Events == 0 {
			return time.Since(t0), first, nil
		}
		if time.Since(t0) > drainWait {
			return 0, first, fmt.Errorf("relay still %d events behind after %s", l.Events, drainWait)
		}
		select {
		case <-ctx.Done():
			return 0, first, ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// streamCheck compares, at the end, the stream's messages with the
// events of the relay-on server's database: exactly one each.
type streamCheck struct {
	Stream     string `json:"stream"`
	Messages   uint64 `json:"messages"`
	FeedEvents int64  `json:"feed_events"`
	Exact      bool   `json:"exact"`
}

func (r *relayBench) check(ctx context.Context, s *server, databaseURL string) (streamCheck, error) {
	c := streamCheck{Stream: r.stream}
	if _, _, err := drain(ctx, s); err != nil {
		return c, err
	}
	conn, err := pgx.Connect(ctx, connURL(databaseURL))
	if err != nil {
		return c, err
	}
	defer conn.Close(ctx)
	if err := conn.QueryRow(ctx, `SELECT count(*) FROM events`).Scan(&c.FeedEvents); err != nil {
		return c, err
	}
	if c.Messages, err = r.messages(ctx); err != nil {
		return c, err
	}
	c.Exact = c.FeedEvents >= 0 && c.Messages == uint64(c.FeedEvents)
	return c, nil
}

// listenerPID is the process listening on a TCP port of this machine,
// found through /proc: the socket's inode in /proc/net/tcp{,6}, then the
// process holding it. 0 when none is found.
func listenerPID(port int) int {
	inodes := make(map[string]bool)
	for _, f := range []string{"/proc/net/tcp", "/proc/net/tcp6"} {
		file, err := os.Open(f)
		if err != nil {
			continue
		}
		sc := bufio.NewScanner(file)
		for sc.Scan() {
			// sl local_address rem_address st ... inode
			fs := strings.Fields(sc.Text())
			if len(fs) < 10 || fs[3] != "0A" {
				continue
			}
			i := strings.LastIndexByte(fs[1], ':')
			if p, err := strconv.ParseInt(fs[1][i+1:], 16, 32); err == nil && int(p) == port {
				inodes["socket:["+fs[9]+"]"] = true
			}
		}
		file.Close()
	}
	if len(inodes) == 0 {
		return 0
	}
	fds, _ := filepath.Glob("/proc/[0-9]*/fd/*")
	for _, fd := range fds {
		if link, err := os.Readlink(fd); err == nil && inodes[link] {
			pid, _ := strconv.Atoi(strings.Split(fd, "/")[2])
			return pid
		}
	}
	return 0
}

// relayRound is what one relay-on measurement showed of the relay.
type relayRound struct {
	// MaxLag is the largest lag read during the measurement.
	MaxLag relayLag `json:"max_lag"`
	// AfterLag is the lag right after it, and Drain how long the relay
	// then took to publish the rest.
	AfterLag relayLag      `json:"lag_after"`
	Drain    time.Duration `json:"drain_ns"`
}

// relayRateGuess sizes the relay scenarios' orders, and place order's
// drafts, when no floor was measured before them (BENCH_SCENARIOS names
// only them).
const relayRateGuess = 3000

// relayServers are the relay scenarios' two servers, each on a fresh
// database of its own, and the ledgers of their writes.
type relayServers struct {
	bench         *relayBench
	off, on       *server
	offURL, onURL string
	ledgers       map[*server]*ledger
}

// startRelayServers creates the run's stream and starts the two servers:
// relay off, and relay on publishing to that stream.
func startRelayServers(ctx context.Context, cfg config, bin string, dbs *databases, tmp string, auth *tokens) (_ *relayServers, err error) {
	rb, err := newRelayBench(cfg.NATSURL)
	if err != nil {
		return nil, err
	}
	rs := &relayServers{bench: rb, offURL: dbs.relayOffURL, onURL: dbs.relayOnURL}
	defer func() {
		if err != nil {
			rs.stop()
		}
	}()
	if err := rb.create(ctx, bin, dbs.relayOnURL); err != nil {
		return rs, err
	}
	if rs.off, err = startServer(ctx, bin, dbs.relayOffURL, filepath.Join(tmp, "server-relay-off.log"), auth); err != nil {
		return rs, err
	}
	if rs.on, err = startServer(ctx, bin, dbs.relayOnURL, filepath.Join(tmp, "server-relay-on.log"), auth, rb.env()...); err != nil {
		return rs, err
	}
	rs.ledgers = map[*server]*ledger{rs.off: newLedger(), rs.on: newLedger()}
	return rs, nil
}

// stop stops the servers and deletes the stream.
func (rs *relayServers) stop() error {
	for _, s := range []*server{rs.off, rs.on} {
		if s != nil {
			s.stop()
		}
	}
	rs.off, rs.on = nil, nil
	return rs.bench.remove()
}

// measure measures add item on one of the servers, counting the NATS
// server's CPU beside theirs. On the relay-on server it reads the
// relay's lag throughout, then waits for the relay to catch up, so that
// the next measurement starts with nothing left to publish.
func (rs *relayServers) measure(ctx context.Context, srv *server, clients int, p phase, postmaster int, newWorker func(i int) (worker, error)) (sample, error) {
	ps := procs{server: srv.cmd.Process.Pid, nats: rs.bench.natsPID, postgres: postmaster}
	if srv != rs.on {
		return measure(ctx, clients, p, ps, newWorker)
	}
	stop := make(chan struct{})
	var (
		worst   relayLag
		lagErr  error
		sampled = make(chan struct{})
	)
	go func() {
		defer close(sampled)
		worst, lagErr = sampleLag(srv, stop)
	}()
	s, err := measure(ctx, clients, p, ps, newWorker)
	close(stop)
	<-sampled
	if err != nil {
		return s, err
	}
	if lagErr != nil {
		return s, lagErr
	}
	took, after, err := drain(ctx, srv)
	if err != nil {
		return s, err
	}
	s.Relay = &relayRound{MaxLag: worst, AfterLag: after, Drain: took}
	return s, nil
}

// verify checks every acknowledged write on both servers' databases and
// that the stream holds exactly the relay-on database's events.
func (rs *relayServers) verify(ctx context.Context) (lost int, c streamCheck, err error) {
	for srv, dbURL := range map[*server]string{rs.off: rs.offURL, rs.on: rs.onURL} {
		n, err := checkLedger(ctx, dbURL, rs.ledgers[srv])
		if err != nil {
			return 0, c, err
		}
		lost += n
	}
	c, err = rs.bench.check(ctx, rs.on, rs.onURL)
	return lost, c, err
}

// relayMaxLagGoal bounds the relay's lag during the add-item load, in
// seconds: a message is published within this of its commit.
const relayMaxLagGoal = 2.0

// relayRows are the relay scenarios' rows at the largest concurrency
// measured, with and without the relay.
func (rep report) relayRows() (off, on row, ok bool) {
	var okOff, okOn bool
	for _, r := range rep.Rows {
		switch {
		case r.Scenario == relayOffName && (!okOff || r.Clients > off.Clients):
			off, okOff = r, true
		case r.Scenario == relayOnName && (!okOn || r.Clients > on.Clients):
			on, okOn = r, true
		}
	}
	return off, on, okOff && okOn && off.Clients == on.Clients
}

// relayGoals: add item costs with the relay within 10 % of without it,
// per round as the floors' ratios are, the relay keeps up, and the
// stream ends with exactly the feed's events.
func (rep report) relayGoals() []goal {
	off, on, ok := rep.relayRows()
	if !ok {
		return nil
	}
	cpu := func(s sample) float64 { return float64(s.ServerCPU + s.DatabaseCPU) }
	cpuRatio := medianRatio(on.Rounds, off.Rounds, cpu)
	opsRatio := medianRatio(on.Rounds, off.Rounds, func(s sample) float64 { return s.OpsPerS })
	gs := []goal{
		{fmt.Sprintf("add item, %d clients, relay on vs off: CPU/op, server + database", on.Clients), "<= 1.10", cpuRatio, cpuRatio <= 1.10},
		{fmt.Sprintf("add item, %d clients, relay on vs off: ops/s", on.Clients), ">= 0.90", opsRatio, opsRatio >= 0.90},
	}
	if on.Median.Relay != nil {
		l := on.Median.Relay.MaxLag.Seconds
		gs = append(gs, goal{fmt.Sprintf("relay lag during add item, %d clients, most seen (s)", on.Clients), fmt.Sprintf("<= %.0f", relayMaxLagGoal), l, l <= relayMaxLagGoal})
	}
	if c := rep.Stream; c != nil {
		diff := float64(int64(c.Messages) - c.FeedEvents)
		gs = append(gs, goal{"relay stream messages minus feed events", "0", diff, c.Exact})
	}
	return gs
}

// printRelay prints the relay scenarios, each round's medians but the
// lag, which is the worst of the rounds.
func (rep report) printRelay(w io.Writer) {
	var rows []row
	for _, r := range rep.Rows {
		if r.Scenario == relayOffName || r.Scenario == relayOnName {
			rows = append(rows, r)
		}
	}
	if len(rows) == 0 {
		return
	}
	fmt.Fprintln(w, "\nthe broker relay (lag: most seen during the window; after it, and the time to publish the rest):")
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "scenario\tclients\tops/s\tp50\tp99\tCPU/op: server\tdatabase\tserver+database\tnats\tlag: events\ts\tafter: events\tdrained in\terrors\t")
	for _, r := range rows {
		m := r.Median
		lag := "\t\t\t"
		if m.Relay != nil {
			lag = fmt.Sprintf("%d\t%.3f\t%d\t%s", m.Relay.MaxLag.Events, m.Relay.MaxLag.Seconds, m.Relay.AfterLag.Events, m.Relay.Drain.Round(time.Millisecond))
		}
		fmt.Fprintf(tw, "%s\t%d\t%.0f\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%d\t\n", r.Scenario, r.Clients, m.OpsPerS, fmtDur(m.P50), fmtDur(m.P99),
			fmtDur(m.ServerCPU), fmtDur(m.DatabaseCPU), fmtDur(m.ServerCPU+m.DatabaseCPU), fmtDur(m.NATSCPU), lag, m.Errors)
	}
	tw.Flush()
	if c := rep.Stream; c != nil {
		fmt.Fprintf(w, "stream %s: %d messages, feed %d events, exact: %t\n", c.Stream, c.Messages, c.FeedEvents, c.Exact)
	}
}
