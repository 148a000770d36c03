package schema

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/orderapi/orderapi/internal/adapters/postgres/pgactivity"
	"github.com/pressly/goose/v3/lock"
	"github.com/rs/zerolog"
)

// watchQueryWait bounds each look at pg_stat_activity, so that a report
// cannot hold up the run it reports on.
const watchQueryWait = 5 * time.Second

// migrationWatch looks at what a migration run waits for: its own
// session once it holds the migration lock, before that the session of
// the process that holds it. It looks through a connection of its own,
// opened at the first look, so that it needs nothing of a pool that the
// run (or the database's limit) may have used up.
type migrationWatch struct {
	connConfig *pgx.ConnConfig
	log        zerolog.Logger
	// session is the pid of the run's own session once it holds the
	// migration lock; 0 before.
	session atomic.Uint32

	mu   sync.Mutex
	conn *pgx.Conn
}

func newMigrationWatch(connConfig *pgx.ConnConfig, log zerolog.Logger) *migrationWatch {
	return &migrationWatch{connConfig: connConfig, log: log}
}

// report logs what the run is waiting for: a warning naming the sessions
// that block it, or what it runs when nothing does.
func (w *migrationWatch) report(ctx context.Context) {
	who, self, blockers, err := w.look(ctx)
	switch {
	case err != nil:
		w.log.Warn().Err(err).Msg("migration still running; cannot tell what it waits for")
	case self.PID == 0:
	case len(blockers) > 0:
		w.log.Warn().Str("session", who+" "+self.String()).Strs("blocked_by", pgactivity.Strings(blockers)).
			Msg("migration waiting for other sessions")
	default:
		w.log.Info().Str("session", who+" "+self.String()).Msg("migration still running")
	}
}

// describe says, in a sentence for an error, what the run is waiting for.
func (w *migrationWatch) describe(ctx context.Context) string {
	who, self, blockers, err := w.look(ctx)
	switch {
	case err != nil:
		return fmt.Sprintf("cannot tell what it waited for: %v", err)
	case self.PID == 0:
		return "no session held the migration lock"
	case len(blockers) > 0:
		return fmt.Sprintf("%s %s was blocked by %s", who, self, strings.Join(pgactivity.Strings(blockers), "; "))
	default:
		return fmt.Sprintf("%s %s was still running", who, self)
	}
}

// look finds the migrating session and the sessions blocking it. who says
// whose it is; self.PID is 0 when no session holds the migration lock.
func (w *migrationWatch) look(ctx context.Context) (who string, self pgactivity.Session, blockers []pgactivity.Session, err error) {
	ctx, cancel := context.WithTimeout(ctx, watchQueryWait)
	defer cancel()
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.conn == nil {
		if w.conn, err = pgx.ConnectConfig(ctx, w.connConfig); err != nil {
			return "", self, nil, fmt.Errorf("connect: %w", err)
		}
	}
	pid, who := w.session.Load(), "the migration's session"
	if pid == 0 {
		var held bool
		if pid, held, err = pgactivity.AdvisoryHolder(ctx, w.conn, lock.DefaultLockID); err != nil || !held {
			return "", self, nil, err
		}
		who = "another process's migration (it holds the migration lock), session"
	}
	self, blockers, _, err = pgactivity.Blocked(ctx, w.conn, pid)
	return who, self, blockers, err
}

func (w *migrationWatch) close() {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.conn != nil {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		_ = w.conn.Close(ctx)
	}
}
