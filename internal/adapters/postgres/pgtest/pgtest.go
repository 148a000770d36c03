// Package pgtest gives each database test a fresh, migrated PostgreSQL
// database of its own, so tests can run in parallel and leave nothing
// behind.
//
// Once per test binary it picks a server (a throwaway Docker container if
// a Docker engine answers, else TEST_DATABASE_URL, else the local default),
// creates a template database and migrates it. Each test then gets a copy
// made by CREATE DATABASE ... TEMPLATE, which is far faster than migrating
// every time, and the copy is dropped when the test ends.
//
// A package that uses pgtest calls [Main] from its TestMain.
package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/orderapi/orderapi/internal/adapters/postgres/schema"
	"github.com/testcontainers/testcontainers-go"
	tcpostgres "github.com/testcontainers/testcontainers-go/modules/postgres"
)

const (
	defaultURL = "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"
	image      = "postgres:15-alpine"

	// dockerWait bounds the Docker probe: a machine without Docker must
	// not pay more than this before falling back to a plain server.
	dockerWait = 5 * time.Second
	// connectWait bounds reaching the server, so a firewalled host fails
	// the probe instead of hanging the test binary.
	connectWait = 5 * time.Second
	// setupWait bounds starting a container and migrating the template.
	setupWait = 3 * time.Minute
	dropWait  = 30 * time.Second
)

// howTo is appended to the skip or failure message when no server answers.
const howTo = "start one with `scripts/devdb.sh url` (make test does this), " +
	"or set TEST_DATABASE_URL=postgres://USER@HOST:PORT/postgres?sslmode=disable, or start Docker"

// server is the per-binary state. It lives in package variables because
// New(t) is called from many tests that share one template, and Main must
// find it again to drop it; nothing outside this package can reach it.
type server struct {
	adminURL  *url.URL      // the maintenance database; copies differ only in path
	admin     *pgxpool.Pool // runs CREATE and DROP DATABASE
	template  string
	container testcontainers.Container // nil unless pgtest started it

	// unreachable is why no server answered: tests skip (or, under CI,
	// fail) on it. broken is a failure after a server answered, which is
	// a real error whatever the environment.
	unreachable error
	broken      error

	createMu sync.Mutex // CREATE DATABASE ... TEMPLATE, one at a time
}

var (
	inMain atomic.Bool
	once   sync.Once
	srv    *server
)

// Main runs the tests of a package that uses pgtest, then drops the
// template database and stops the container, if any, and exits with the
// tests' code. Call it from TestMain:
//
//	func TestMain(m *testing.M) { pgtest.Main(m) }
func Main(m *testing.M) {
	inMain.Store(true)
	code := m.Run()
	if srv != nil {
		if err := srv.close(); err != nil {
			fmt.Fprintf(os.Stderr, "pgtest: %v\n", err)
			if code == 0 {
				code = 1
			}
		}
	}
	os.Exit(code)
}

// New returns a pool connected to a fresh database holding the migrated,
// empty schema. The pool is closed and the database dropped when the test
// ends.
func New(t testing.TB) *pgxpool.Pool {
	t.Helper()
	return NewTraced(t, nil)
}

// NewTraced is New, with tracer on the pool's connections (none if nil).
func NewTraced(t testing.TB, tracer pgx.QueryTracer) *pgxpool.Pool {
	t.Helper()
	cfg, err := pgxpool.ParseConfig(NewURL(t))
	if err != nil {
		t.Fatalf("pgtest: %v", err)
	}
	cfg.ConnConfig.Tracer = tracer
	ctx, cancel := context.WithTimeout(context.Background(), connectWait)
	defer cancel()
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		t.Fatalf("pgtest: open pool: %v", err)
	}
	// Registered after NewURL's drop, so it runs before it.
	t.Cleanup(pool.Close)
	return pool
}

// NewURL is New for tests that need a connection URL rather than a pool,
// such as those that start the server binary. The database is dropped,
// along with any connections still open to it, when the test ends.
func NewURL(t testing.TB) string {
	t.Helper()
	if !inMain.Load() {
		t.Fatal("pgtest: call pgtest.Main from TestMain, so that the template database is dropped after the tests")
	}
	once.Do(func() { srv = start() })
	switch {
	case srv.broken != nil:
		t.Fatalf("pgtest: %v", srv.broken)
	case srv.unreachable != nil:
		if ci, _ := strconv.ParseBool(os.Getenv("CI")); ci {
			t.Fatalf("pgtest: CI is set, so database tests may not skip: %v; %s", srv.unreachable, howTo)
		}
		t.Skipf("pgtest: no PostgreSQL server: %v; %s", srv.unreachable, howTo)
	}

	name, err := srv.create()
	if err != nil {
		t.Fatalf("pgtest: %v", err)
	}
	t.Cleanup(func() {
		// t.Context is already cancelled when cleanups run.
		ctx, cancel := context.WithTimeout(context.Background(), dropWait)
		defer cancel()
		if err := srv.drop(ctx, name); err != nil {
			t.Errorf("pgtest: %v", err)
		}
	})
	return srv.urlFor(name)
}

// start chooses the server and prepares the template. It never fails
// outright: errors are kept on the server for each test to report.
func start() *server {
	ctx, cancel := context.WithTimeout(context.Background(), setupWait)
	defer cancel()
	s := &server{}

	rawURL, dockerErr := s.pickServer(ctx)
	var err error
	if s.adminURL, err = url.Parse(rawURL); err != nil || (s.adminURL.Scheme != "postgres" && s.adminURL.Scheme != "postgresql") {
		// Test databases are named by rewriting the URL's path.
		s.broken = fmt.Errorf("TEST_DATABASE_URL must be a postgres:// URL, not key=value settings")
		return s
	}

	connCtx, connCancel := context.WithTimeout(ctx, connectWait)
	defer connCancel()
	if s.admin, err = pgxpool.New(connCtx, rawURL); err != nil {
		s.broken = fmt.Errorf("admin pool: %w", err)
		return s
	}
	if err := s.admin.Ping(connCtx); err != nil {
		s.unreachable = errors.Join(fmt.Errorf("%s: %w", s.adminURL.Redacted(), err), dockerErr)
		return s
	}

	s.template = "orderapi_tpl_" + suffix()
	if _, err := s.admin.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{s.template}.Sanitize()); err != nil {
		s.template = ""
		s.broken = fmt.Errorf("create template database: %w", err)
		return s
	}
	if err := migrate(ctx, s.urlFor(s.template)); err != nil {
		s.broken = fmt.Errorf("migrate template database: %w", err)
	}
	return s
}

// pickServer returns the admin URL of the server to use, starting a
// container when a Docker engine answers. A container that will not start
// (say, the image cannot be pulled offline) falls back to the URL; its
// error is returned alongside, to explain a failure of that fallback.
func (s *server) pickServer(ctx context.Context) (string, error) {
	var dockerErr error
	if dockerAnswers() {
		u, err := s.runContainer(ctx)
		if err == nil {
			return u, nil
		}
		dockerErr = fmt.Errorf("docker answers, but the %s container did not start: %w", image, err)
		fmt.Fprintf(os.Stderr, "pgtest: %v; using TEST_DATABASE_URL or the local default\n", dockerErr)
	}
	if u := os.Getenv("TEST_DATABASE_URL"); u != "" {
		return u, dockerErr
	}
	return defaultURL, dockerErr
}

// runContainer starts a PostgreSQL container and returns its admin URL.
// The container is kept on s even when half started, so Main stops it.
func (s *server) runContainer(ctx context.Context) (string, error) {
	ctr, err := tcpostgres.Run(ctx, image, tcpostgres.BasicWaitStrategies())
	if ctr != nil {
		s.container = ctr
	}
	if err != nil {
		return "", err
	}
	return ctr.ConnectionString(ctx, "sslmode=disable")
}

// migrate applies the migrations to the template and closes every
// connection to it, since PostgreSQL copies only an unused template.
func migrate(ctx context.Context, dbURL string) error {
	pool, err := pgxpool.New(ctx, dbURL)
	if err != nil {
		return err
	}
	defer pool.Close()
	return schema.Migrate(ctx, pool, schema.Config{})
}

// create makes a fresh copy of the template and returns its name.
func (s *server) create() (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), setupWait)
	defer cancel()
	name := "orderapi_test_" + suffix()
	// Two copies of one template at once can fail with "source database
	// is being accessed by other users".
	s.createMu.Lock()
	defer s.createMu.Unlock()
	sql := fmt.Sprintf("CREATE DATABASE %s TEMPLATE %s",
		pgx.Identifier{name}.Sanitize(), pgx.Identifier{s.template}.Sanitize())
	if _, err := s.admin.Exec(ctx, sql); err != nil {
		return "", fmt.Errorf("create test database: %w", err)
	}
	return name, nil
}

func (s *server) drop(ctx context.Context, name string) error {
	// FORCE ends connections a test left open, e.g. a server it started.
	if _, err := s.admin.Exec(ctx, "DROP DATABASE IF EXISTS "+pgx.Identifier{name}.Sanitize()+" WITH (FORCE)"); err != nil {
		return fmt.Errorf("drop database %s: %w", name, err)
	}
	return nil
}

// close drops the template and stops the container; both are attempted.
func (s *server) close() error {
	ctx, cancel := context.WithTimeout(context.Background(), dropWait)
	defer cancel()
	var errs []error
	if s.template != "" {
		errs = append(errs, s.drop(ctx, s.template))
	}
	if s.admin != nil {
		s.admin.Close()
	}
	if s.container != nil {
		if err := testcontainers.TerminateContainer(s.container); err != nil {
			errs = append(errs, fmt.Errorf("stop container: %w", err))
		}
	}
	return errors.Join(errs...)
}

// urlFor returns the admin URL with its database replaced by name.
func (s *server) urlFor(name string) string {
	u := *s.adminURL
	u.Path = "/" + name
	u.RawPath = ""
	return u.String()
}

// suffix makes database names unique across test binaries running at once
// against one server: the pid tells them apart on one machine, the random
// part across machines and containers.
func suffix() string {
	b := make([]byte, 4)
	_, _ = rand.Read(b) // crypto/rand.Read never fails
	return strconv.Itoa(os.Getpid()) + "_" + hex.EncodeToString(b)
}
