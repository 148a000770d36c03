package standby

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/orderapi/orderapi/internal/adapters/postgres"
)

// checkWait bounds one check: a standby that does not answer in time is
// as good as down.
const checkWait = 2 * time.Second

// Run checks every standby each CheckEvery until ctx ends, putting it in
// rotation while it is well and taking it out while it is not. It returns
// ctx's error.
func (r *Router) Run(ctx context.Context) error {
	var wg sync.WaitGroup
	for _, s := range r.standbys {
		wg.Go(func() { r.watch(ctx, s) })
	}
	wg.Wait()
	return ctx.Err()
}

// watch checks s at once, then every CheckEvery.
func (r *Router) watch(ctx context.Context, s *standby) {
	h := health{samples: make([]walSample, 0, maxSamples)}
	for {
		why := r.check(ctx, s, &h)
		if ctx.Err() != nil {
			return
		}
		r.setState(s, why)
		s.checks.Add(1)
		if postgres.Sleep(ctx, r.cfg.CheckEvery) != nil {
			return
		}
	}
}

// health is what a standby's checks remember between them.
type health struct {
	// samples are the primary's WAL positions at the last checks, oldest
	// first: the newest one the standby has replayed says how far behind
	// it is at most, even while the primary writes without pause.
	samples []walSample
}

type walSample struct {
	at  time.Time
	lsn int64
}

// maxSamples bounds the samples kept: with one check a second, lags
// beyond a minute read as a minute, far past any MaxLag.
const maxSamples = 64

// primarySQL reads where the primary's WAL is, its clock, and which
// cluster and database it is.
const primarySQL = `
SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), '0/0')::bigint, clock_timestamp(),
       (SELECT system_identifier FROM pg_control_system()), current_database()`

// standbySQL reads what a check needs of a standby: whether it is still
// one, how far it has replayed, when the last transaction it replayed
// committed, and which cluster and database it is.
const standbySQL = `
SELECT pg_is_in_recovery(),
       coalesce(pg_wal_lsn_diff(pg_last_wal_replay_lsn(), '0/0'), 0)::bigint,
       pg_last_xact_replay_timestamp(),
       (SELECT system_identifier FROM pg_control_system()), current_database()`

// node is what a check reads of one server.
type node struct {
	id int64
	db string
}

// check reads the primary's WAL position, then the standby's state, and
// sets the standby's lag; it returns why the standby must be out of
// rotation, or "" when it may serve. Without the primary's position the
// lag grows from the last one read: a standby is never trusted further
// than what was last measured.
func (r *Router) check(ctx context.Context, s *standby, h *health) string {
	ctx, cancel := context.WithTimeout(ctx, checkWait)
	defer cancel()
	var (
		sample       = walSample{at: time.Now()}
		primaryClock time.Time
		primary      node
	)
	primaryErr := r.primary.Pool().QueryRow(ctx, primarySQL).Scan(&sample.lsn, &primaryClock, &primary.id, &primary.db)
	var (
		inRecovery bool
		replayed   int64
		replayedAt *time.Time
		it         node
		hotStandby string
	)
	conn, err := s.store.Pool().Acquire(ctx)
	if err == nil {
		err = conn.QueryRow(ctx, standbySQL).Scan(&inRecovery, &replayed, &replayedAt, &it.id, &it.db)
		hotStandby = conn.Conn().PgConn().ParameterStatus("in_hot_standby")
		conn.Release()
	}
	if err != nil {
		return "unreachable: " + errorClass(err)
	}
	why := notStandby(inRecovery, hotStandby)
	switch {
	case why == notInRecovery:
		s.reconnect()
		return why
	case why != "":
		return why
	case primaryErr == nil && it != primary:
		s.reconnect()
		return fmt.Sprintf("not a standby of the primary's database (it is database %s of cluster %d)", it.db, it.id)
	}
	if primaryErr == nil {
		h.add(sample)
	}
	lag, behind, known := h.lag(time.Now(), replayed)
	if primaryErr == nil && replayedAt != nil && behind > 0 {
		// The last commit replayed was made on the primary this long
		// ago, and nothing after it is replayed: a bound where the
		// samples give none (a standby already behind when the checks
		// began), and a closer one while the primary writes on.
		age := max(primaryClock.Sub(*replayedAt), 0)
		if known {
			lag = min(lag, age)
		} else {
			lag, known = max(lag, age), true
		}
	}
	s.lag.Store(int64(lag))
	s.lagBytes.Store(behind)
	switch {
	case !known && primaryErr != nil:
		return "its lag is not known: the primary does not answer: " + errorClass(primaryErr)
	case !known:
		return "its lag is not known yet: it is behind the primary, and has replayed no commit since it started"
	case lag > r.cfg.MaxLag:
		// The lag itself is logged and shown apart: the reason stays the
		// same while it grows.
		return fmt.Sprintf("lagging behind the primary by more than ORDERAPI_READ_MAX_LAG (%s)", r.cfg.MaxLag)
	}
	return ""
}

// noHotStandbyReport is why a standby whose server does not report
// in_hot_standby is out of rotation.
const noHotStandbyReport = "its server does not report in_hot_standby (PostgreSQL 13 or older), " +
	"so a promotion could not be noticed between checks and every read of it would be discarded: standbys need PostgreSQL 14 or later"

// notStandby is why a server is no standby that may serve, from what it
// says of its recovery: pg_is_in_recovery(), and in_hot_standby as last
// reported to the connection ("" when the server reports none); "" when
// it is one. A promoted standby takes writes of its own: reading it could
// show what the primary never had. One that does not report
// in_hot_standby would have every read discarded by RecoveryTracer, which
// relies on it, and answered by the primary unseen.
func notStandby(inRecovery bool, hotStandby string) string {
	switch {
	case !inRecovery || hotStandby == "off":
		return notInRecovery
	case hotStandby != "on":
		return noHotStandbyReport
	}
	return ""
}

// add keeps a sample of the primary's WAL position.
func (h *health) add(s walSample) {
	if len(h.samples) == maxSamples {
		h.samples = append(h.samples[:0], h.samples[1:]...)
	}
	h.samples = append(h.samples, s)
}

// lag bounds how far behind the primary, at now, a standby that has
// replayed up to lsn is: it has everything the primary had when the
// newest sample it has replayed was taken, so at most that sample's age
// (zero for the sample just taken). behind is the WAL between lsn and the
// newest sample. known is false when it has replayed no sample: it is
// then at least as far behind as the oldest sample is old, perhaps much
// further, and lag is that lower bound.
func (h *health) lag(now time.Time, lsn int64) (lag time.Duration, behind int64, known bool) {
	n := len(h.samples)
	if n == 0 {
		return 0, 0, false
	}
	behind = h.samples[n-1].lsn - lsn
	if behind <= 0 {
		return 0, 0, true
	}
	for i := n - 2; i >= 0; i-- {
		if lsn >= h.samples[i].lsn {
			return now.Sub(h.samples[i].at), behind, true
		}
	}
	return now.Sub(h.samples[0].at), behind, false
}
