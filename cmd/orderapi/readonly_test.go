package main

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/orderapi/orderapi/internal/adapters/postgres/pgtest"
)

// answer is a finished exchange with the server.
type answer struct {
	status int
	header http.Header
	code   string // a problem's code
	detail string // a problem's detail
	body   []byte
}

// call sends a request as operatorToken.
func call(t *testing.T, method, url, body string) answer {
	t.Helper()
	return callAs(t, operatorToken(), method, url, body)
}

// callAs sends a request with the bearer token, or none if it is empty.
func callAs(t *testing.T, token, method, url, body string) answer {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	a := answer{status: resp.StatusCode, header: resp.Header, body: data}
	if resp.Header.Get("Content-Type") == "application/problem+json" {
		var p struct{ Code, Detail string }
		if err := json.Unmarshal(data, &p); err != nil {
			t.Fatalf("%s %s: %v: %s", method, url, err, data)
		}
		a.code, a.detail = p.Code, p.Detail
	}
	return a
}

// eventually calls until the answer has the status, for up to within.
func eventually(t *testing.T, within time.Duration, status int, method, url, body string) answer {
	t.Helper()
	return eventuallyAs(t, within, status, operatorToken(), method, url, body)
}

// eventuallyAs is eventually with the bearer token, or none if it is empty.
func eventuallyAs(t *testing.T, within time.Duration, status int, token, method, url, body string) answer {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		a := callAs(t, token, method, url, body)
		if a.status == status {
			return a
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s %s = %d %s (%s) after %s, want %d", method, url, a.status, a.code, a.detail, within, status)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

const newOrderBody = `{"customer_id":"0193a000-0000-7000-8000-0000000000c1"}`

// wantReadOnly checks that a database taking no writes is shown for what
// it is: not ready, saying why; commands 503 database_read_only with
// Retry-After; reads served.
func wantReadOnly(t *testing.T, base, why string) {
	t.Helper()
	if a := call(t, "GET", base+"/readyz", ""); a.status != http.StatusServiceUnavailable || a.code != "not_ready" || !strings.Contains(a.detail, why) {
		t.Errorf("readyz = %d %s %q, want 503 not_ready saying %q", a.status, a.code, a.detail, why)
	}
	a := call(t, "POST", base+"/v1/orders", newOrderBody)
	if a.status != http.StatusServiceUnavailable || a.code != "database_read_only" || a.header.Get("Retry-After") == "" {
		t.Errorf("create = %d %s, Retry-After %q; want 503 database_read_only with Retry-After", a.status, a.code, a.header.Get("Retry-After"))
	}
	if a := call(t, "GET", base+"/v1/customers/0193a000-0000-7000-8000-0000000000c1/orders", ""); a.status != http.StatusOK {
		t.Errorf("list = %d %s, want 200", a.status, a.code)
	}
}

// TestServeOnAReadOnlyDatabase: the service starts on a database an
// operator made read-only, says it is not ready and why, refuses commands
// with 503, and recovers by itself once writes are allowed again.
func TestServeOnAReadOnlyDatabase(t *testing.T) {
	t.Parallel()
	// Given a database made read-only
	url := pgtest.NewURL(t)
	conn := pgtest.Connect(t, url)
	db := pgx.Identifier{conn.Config().Database}.Sanitize()
	if _, err := conn.Exec(context.Background(), "ALTER DATABASE "+db+" SET default_transaction_read_only = on"); err != nil {
		t.Fatal(err)
	}

	// When the service starts on it
	addr, _ := startServer(t, url)
	base := "http://" + addr

	// Then it serves reads, but is not ready and refuses commands
	wantReadOnly(t, base, "read-only (default_transaction_read_only is on)")

	// And once writes are allowed again, commands succeed and it is ready,
	// without a restart
	if _, err := conn.Exec(context.Background(), "ALTER DATABASE "+db+" RESET default_transaction_read_only"); err != nil {
		t.Fatal(err)
	}
	eventually(t, 10*time.Second, http.StatusCreated, "POST", base+"/v1/orders", newOrderBody)
	eventually(t, 10*time.Second, http.StatusOK, "GET", base+"/readyz", "")
	// And the database, which had no cursor key, gets one, for every
	// replica to share
	for deadline := time.Now().Add(15 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		var n int
		if err := conn.QueryRow(context.Background(), "SELECT count(*) FROM service_secrets").Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("no cursor key was stored once the database took writes")
		}
	}
}

// TestServeOnAHotStandby: pointed at a hot standby, the service starts,
// says it is not ready and why, refuses commands with 503, and its
// listener warns once rather than at every retry; once the standby is
// promoted, everything works without a restart.
func TestServeOnAHotStandby(t *testing.T) {
	t.Parallel()
	// Given a migrated database on a primary, and a standby of it
	primary := pgtest.NewCluster(t)
	primary.NewDatabase(t, "orderapi")
	standby := primary.Standby(t)

	// When the service starts on the standby
	logs := &lockedBuilder{}
	addr, _ := startServerLogging(t, standby.URL("orderapi"), logs)
	base := "http://" + addr

	// Then it serves reads, but is not ready and refuses commands
	wantReadOnly(t, base, "hot standby")
	// And its listener, which cannot LISTEN on a standby, warns once while
	// it retries
	time.Sleep(3 * time.Second)
	if n := strings.Count(logs.String(), "listening for appended events failed"); n != 1 {
		t.Errorf("the listener warned %d times in 3s, want once:\n%s", n, logs.String())
	}

	// And once the standby is promoted, commands succeed, it is ready,
	// and the listener listens, without a restart
	if err := standby.Promote(); err != nil {
		t.Fatal(err)
	}
	eventually(t, 10*time.Second, http.StatusCreated, "POST", base+"/v1/orders", newOrderBody)
	eventually(t, 10*time.Second, http.StatusOK, "GET", base+"/readyz", "")
	for deadline := time.Now().Add(15 * time.Second); !strings.Contains(logs.String(), `"message":"listening for appended events"`); {
		if time.Now().After(deadline) {
			t.Fatalf("the listener did not listen within 15s of the promotion:\n%s", logs.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// TestServeRefusesToMigrateAReadOnlyDatabase: migrations cannot be applied
// to a database that takes no writes; serve says so at once, rather than
// retry a SQL error until its start-up wait ends.
func TestServeRefusesToMigrateAReadOnlyDatabase(t *testing.T) {
	t.Parallel()
	url := pgtest.NewURL(t)
	dropSchema(t, url)
	conn := pgtest.Connect(t, url)
	if _, err := conn.Exec(context.Background(), "ALTER DATABASE "+pgx.Identifier{conn.Config().Database}.Sanitize()+" SET default_transaction_read_only = on"); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	err := run(context.Background(), []string{"orderapi", "serve"}, env(devAuth(t, map[string]string{"DATABASE_URL": url, "ORDERAPI_ADDR": "127.0.0.1:0"})), io.Discard)
	if err == nil || !strings.Contains(err.Error(), "pending migrations cannot be applied") || !strings.Contains(err.Error(), "writable primary") {
		t.Fatalf("serve = %v, want a refusal naming the read-only database", err)
	}
	if took := time.Since(start); took > 10*time.Second {
		t.Errorf("refused after %s", took)
	}
}
