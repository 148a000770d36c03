package standby

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/orderapi/orderapi/internal/adapters/postgres"
	"github.com/orderapi/orderapi/internal/adapters/postgres/eventstore"
	"github.com/orderapi/orderapi/internal/app"
)

// standby is one standby and what the router knows of it.
type standby struct {
	name  string
	store *eventstore.Store
	// recovery counts the queries on its pool that ended after it left
	// recovery.
	recovery *recoveryTracer

	// inRotation is whether queries may read it: set by its health
	// check, cleared as soon as a read finds it unreachable or promoted.
	inRotation atomic.Bool
	// mu orders the changes of state: why is why it is out of rotation,
	// "" while in.
	mu  sync.Mutex
	why string
	// lag and lagBytes are how far behind the primary it was at its last
	// check, in nanoseconds and in bytes of WAL.
	lag, lagBytes atomic.Int64
	// checks counts the health checks made of it.
	checks    atomic.Uint64
	reads     atomic.Uint64
	fallbacks [fallbackReasons]atomic.Uint64
}

// Why a query handed to a standby, or meant for one, was answered by the
// primary.
const (
	// fellBehind: it had not replayed the query's position in time.
	fellBehind = iota
	// failedUnder: the read failed on it (unreachable, or cancelled by
	// a conflict with recovery).
	failedUnder
	fallbackReasons
)

// handOut counts a query handed to s and returns its read model.
func (s *standby) handOut(r *Router) *reads {
	s.reads.Add(1)
	return &reads{router: r, standby: s}
}

// source is s as an answer names it.
func (s *standby) source() app.ReadSource {
	return app.ReadSource{Name: s.name, Standby: true, Lag: time.Duration(s.lag.Load())}
}

// eventAtSQL finds an event by its position, through the primary key.
const eventAtSQL = `SELECT EXISTS (SELECT 1 FROM events WHERE position = $1)`

// has reports whether s has replayed the commit of the event at position:
// the event is visible there, and with it every transaction whose commit
// the primary logged before. Positions are handed out at insert and
// commit in another order, so a standby's highest position says nothing
// of a lower one.
func (s *standby) has(ctx context.Context, position int64) (bool, error) {
	return eventAt(ctx, s.store.Pool(), position)
}

func eventAt(ctx context.Context, pool *pgxpool.Pool, position int64) (ok bool, err error) {
	defer postgres.MarkUnavailable(&err)
	err = pool.QueryRow(ctx, eventAtSQL, position).Scan(&ok)
	return ok, err
}

// failed notes a read that failed on s: an unreachable standby is out of
// rotation until its next check finds it well. It reports whether the
// primary may answer the read instead: the standby could not, and the
// request still has time.
func (r *Router) failed(ctx context.Context, s *standby, err error) bool {
	if ctx.Err() != nil {
		return false
	}
	switch {
	case postgres.IsUnreachable(err):
		r.setState(s, "unreachable: "+errorClass(err))
	case !conflictWithRecovery(err) && !errors.Is(err, app.ErrUnavailable):
		return false
	}
	s.fallbacks[failedUnder].Add(1)
	return true
}

// promoted takes s out of rotation at once: a read found it out of
// recovery, so it may take writes the primary never sees.
func (r *Router) promoted(s *standby) {
	r.setState(s, notInRecovery)
	s.reconnect()
	s.fallbacks[failedUnder].Add(1)
}

// reconnect closes the connections of s's pool, when the server they
// reach is not a standby of the primary's: the pool keeps its
// connections, so a URL naming several hosts that fell over to another
// (the primary, while the standby was down) would stay there for good.
// The next check connects anew, to the first host that answers. Reads in
// flight finish first.
func (s *standby) reconnect() { s.store.Pool().Reset() }

// notInRecovery is why a standby promoted, or a URL that reached a
// primary, is out of rotation.
const notInRecovery = "not in recovery: promoted, or a primary, it may take writes the primary never sees"

// setState puts s in rotation when why is "", else takes it out for why,
// logging each change: into rotation at info, out of it, or out for
// another reason, at warn.
func (r *Router) setState(s *standby, why string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	was := s.inRotation.Swap(why == "")
	if why == s.why && was == (why == "") {
		return
	}
	s.why = why
	log := r.cfg.Log.With().Str("standby", s.name).Float64("lag_seconds", time.Duration(s.lag.Load()).Seconds()).
		Int64("lag_bytes", s.lagBytes.Load()).Logger()
	if why == "" {
		log.Info().Msg("standby in rotation")
		return
	}
	log.Warn().Str("reason", why).Msg("standby out of rotation; the primary answers its reads")
}

// reason is why s is out of rotation, "" while in.
func (s *standby) reason() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.why
}

// errorClass says what kind of failure err is, without what varies from
// one to the next: PostgreSQL's message and SQLSTATE (a wrong password, a
// database that does not exist), a check without an answer in time, or
// why the connection failed. Never where the standby is: standbys are
// shown by name, and a connection's error names its host, port and user.
func errorClass(err error) string {
	if pgErr, ok := errors.AsType[*pgconn.PgError](err); ok {
		return fmt.Sprintf("%s (SQLSTATE %s)", pgErr.Message, pgErr.Code)
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return "no answer in time"
	}
	if _, ok := errors.AsType[*net.DNSError](err); ok {
		return "cannot connect: its host name does not resolve"
	}
	if sys, ok := errors.AsType[*os.SyscallError](err); ok {
		return "cannot connect: " + sys.Err.Error()
	}
	if _, ok := errors.AsType[*pgconn.ConnectError](err); ok {
		return "cannot connect"
	}
	return "the connection failed"
}

// conflictWithRecovery reports a query a standby cancelled because the
// WAL it replays removes what the query reads: the primary has it.
func conflictWithRecovery(err error) bool {
	pgErr, ok := errors.AsType[*pgconn.PgError](err)
	return ok && pgErr.Code == "40001"
}
