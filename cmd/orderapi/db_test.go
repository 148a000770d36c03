package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/orderapi/orderapi/internal/adapters/postgres/pgtest"
	"github.com/pressly/goose/v3/lock"
)

func TestCheckOnAnUnmigratedDatabase(t *testing.T) {
	t.Parallel()
	// Given a database never migrated
	url := pgtest.NewURL(t)
	dropSchema(t, url)

	// When checked
	err := run(context.Background(), []string{"orderapi", "check"}, env(withMasterKey(t, map[string]string{"DATABASE_URL": url})), io.Discard)

	// Then check says so plainly, and how to migrate
	if err == nil || !strings.Contains(err.Error(), "not migrated") || !strings.Contains(err.Error(), "orderapi migrate") {
		t.Fatalf("check = %v, want it to say the database is not migrated", err)
	}
	if strings.Contains(err.Error(), "SQLSTATE") {
		t.Errorf("check = %v: a raw SQL error", err)
	}
}

func TestCheckWaitsForTheDatabase(t *testing.T) {
	t.Parallel()
	// Given a database that refuses the first connections, as one still
	// starting does
	dbURL := pgtest.NewURL(t)
	proxy := startProxy(t, dbURL, 2)

	// When checked
	err := run(context.Background(), []string{"orderapi", "check"}, env(withMasterKey(t, map[string]string{"DATABASE_URL": proxy.url})), io.Discard)

	// Then check waited for it, as the other commands do
	if err != nil {
		t.Fatalf("check = %v", err)
	}
	if n := proxy.refused.Load(); n != 2 {
		t.Errorf("%d connections refused, want 2", n)
	}
}

func TestServeRefusesAPoolTooSmallForItsWorkers(t *testing.T) {
	t.Parallel()
	dbURL := pgtest.NewURL(t)

	// Given a pool of 2 connections, both kept by background workers
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	err := run(ctx, []string{"orderapi", "serve"}, env(devAuth(t, map[string]string{
		"DATABASE_URL":  dbURL + "&pool_max_conns=2",
		"ORDERAPI_ADDR": "127.0.0.1:0",
	})), io.Discard)

	// Then serve refuses to start, saying how many it needs and why
	if err == nil || ctx.Err() != nil {
		t.Fatalf("serve with pool_max_conns=2 = %v, after it ran until the test's deadline: %v", err, ctx.Err())
	}
	for _, want := range []string{"pool_max_conns=2", "at least 3", "listener", "analytics consumer", "1 for requests"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not say %q", err, want)
		}
	}

	// And with one more, it serves commands
	addr, _ := startServer(t, dbURL+"&pool_max_conns=3")
	resp, err := authed.Post("http://"+addr+"/v1/orders", "application/json",
		strings.NewReader(`{"customer_id":"0193a000-0000-7000-8000-0000000000c1"}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		t.Errorf("create with pool_max_conns=3 = %d", resp.StatusCode)
	}
}

func TestMigrateGivesUpNamingWhatItWaitsFor(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	// Given a database to migrate, and another process holding the
	// migration lock (as one stuck in a long migration would)
	dbURL := pgtest.NewURL(t)
	dropSchema(t, dbURL)
	holder, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer holder.Close(ctx)
	if _, err := holder.Exec(ctx, `SELECT pg_advisory_lock($1)`, lock.DefaultLockID); err != nil {
		t.Fatal(err)
	}

	// When orderapi migrate runs with a short limit
	var out lockedBuilder
	err = run(ctx, []string{"orderapi", "migrate"}, env(map[string]string{
		"DATABASE_URL":             dbURL,
		"ORDERAPI_MIGRATE_TIMEOUT": "2s",
	}), &out)

	// Then it gives up after it, naming the session it waited for and
	// the setting that sets the limit
	if err == nil {
		t.Fatal("migrate succeeded while another process held the migration lock")
	}
	for _, want := range []string{
		"gave up after 2s",
		"another process's migration",
		fmt.Sprintf("pid %d (idle", holder.PgConn().PID()),
		"pg_advisory_lock",
		"ORDERAPI_MIGRATE_TIMEOUT",
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not say %q", err, want)
		}
	}
}

// proxy forwards connections to a database, closing the first ones at
// once, as a database still starting does.
type proxy struct {
	url     string
	refused atomic.Int32
}

func startProxy(t *testing.T, dbURL string, refuse int32) *proxy {
	t.Helper()
	u, err := url.Parse(dbURL)
	if err != nil {
		t.Fatal(err)
	}
	target := u.Host
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	u.Host = ln.Addr().String()
	p := &proxy{url: u.String()}
	var conns sync.WaitGroup
	t.Cleanup(func() {
		ln.Close()
		conns.Wait()
	})
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			if p.refused.Load() < refuse {
				p.refused.Add(1)
				c.Close()
				continue
			}
			conns.Go(func() { forward(c, target) })
		}
	}()
	return p
}

// forward copies c to and from a new connection to target until either
// side closes.
func forward(c net.Conn, target string) {
	defer c.Close()
	up, err := net.Dial("tcp", target)
	if err != nil {
		return
	}
	defer up.Close()
	done := make(chan struct{}, 2)
	go func() { _, _ = io.Copy(up, c); done <- struct{}{} }()
	go func() { _, _ = io.Copy(c, up); done <- struct{}{} }()
	<-done
}
