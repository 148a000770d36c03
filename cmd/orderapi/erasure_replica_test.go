package main

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/orderapi/orderapi/internal/adapters/postgres/notify"
	"github.com/orderapi/orderapi/internal/adapters/postgres/pgtest"
)

// TestAReplicaWhoseListenerStallsForgetsTheErasureItMissed: a replica
// whose listening session stays open but delivers nothing (its server
// process stopped, as a network that silently drops the connection's
// packets would leave it) finds the session silent within its
// heartbeat, forgets the keys and states it kept, and so serves an
// erasure it never heard of on every surface; it listens again on
// another session, and is ready.
func TestAReplicaWhoseListenerStallsForgetsTheErasureItMissed(t *testing.T) {
	t.Parallel()
	// Given a replica, the only one listening so far, and the listening
	// session's server process
	url := pgtest.NewURL(t)
	logs := &lockedBuilder{}
	addr, _ := startServerLogging(t, url, logs)
	replica := "http://" + addr
	listening := listeningBackend(t, url)
	// and another replica, listening too
	addr, _ = startServer(t, url)
	other := "http://" + addr
	othersListening := listeningBackend(t, url, listening)
	// and two orders of a customer placed through the first, which keeps
	// their states and the customer's key, and shows the address
	const name = "Ada Stalled-Listener"
	c := uuid.New()
	ids := []string{placedOrder(t, replica, c, name), placedOrder(t, replica, c, name)}
	surfaces := []string{
		"/v1/orders/" + ids[0] + "?version=3",
		"/v1/orders/" + ids[0] + "/events",
		"/v1/events?limit=100",
	}
	for _, s := range surfaces {
		if body := get(t, replica+s); !strings.Contains(body, name) {
			t.Fatalf("GET %s before the erasure: %s", s, body)
		}
	}

	// When the listening session's server process stops, its connection
	// still open, and the other replica erases the customer
	stopBackend(t, url, listening)
	erased := time.Now()
	if status := erase(t, other, c); status != http.StatusNoContent {
		t.Fatalf("erase = %d", status)
	}

	// Then within the heartbeat and its wait, far sooner than any key is
	// asked about again, the first replica shows the customer's address on
	// no surface
	bound := notify.DefaultHeartbeatEvery + notify.DefaultHeartbeatWait + 2*time.Second
	for _, s := range surfaces {
		for {
			asked := time.Now()
			body := get(t, replica+s)
			if !strings.Contains(body, name) {
				if !strings.Contains(body, `"erased":true`) {
					t.Errorf("GET %s: the address is gone, not marked erased: %s", s, body)
				}
				break
			}
			if late := asked.Sub(erased); late > bound {
				t.Fatalf("GET %s shows the erased address %s after the erasure, past %s:\n%s", s, late, bound, logs.String())
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	// nor in a command's answer, decided on the state it kept before
	a := call(t, "POST", replica+"/v1/orders/"+ids[1]+"/ship", `{"tracking_number":"1Z","carrier":"UPS"}`)
	if a.status != http.StatusOK || strings.Contains(string(a.body), name) || !strings.Contains(string(a.body), `"erased":true`) {
		t.Errorf("ship = %d: %s", a.status, a.body)
	}
	// And it says why it gave the session up, listens on another and is
	// ready
	if !strings.Contains(logs.String(), "did not answer its heartbeat") {
		t.Errorf("no word of the silent session:\n%s", logs.String())
	}
	eventually(t, 10*time.Second, http.StatusOK, "GET", replica+"/readyz", "")
	listeningBackend(t, url, listening, othersListening)
}

// placedOrder places an order of customer c shipped to name through
// base, and returns its id.
func placedOrder(t *testing.T, base string, c uuid.UUID, name string) string {
	t.Helper()
	id := uuid.NewString()
	for _, s := range []struct{ path, body string }{
		{"/v1/orders", `{"id":"` + id + `","customer_id":"` + c.String() + `"}`},
		{"/v1/orders/" + id + "/items", `{"product_id":"` + uuid.NewString() + `","product_name":"Cup","quantity":2,"unit_price":"4.50"}`},
		{"/v1/orders/" + id + "/place", `{"shipping_address":{"name":"` + name + `","line1":"1 Way","city":"London","postal_code":"N1","country":"GB"}}`},
	} {
		if a := call(t, "POST", base+s.path, s.body); a.status/100 != 2 {
			t.Fatalf("POST %s = %d: %s", s.path, a.status, a.body)
		}
	}
	return id
}

// listeningBackend waits for the one backend of the database of url,
// other than those not, that listens for appended events (a replica's
// listener), and returns its pid.
func listeningBackend(t *testing.T, url string, not ...int32) int32 {
	t.Helper()
	conn := pgtest.Connect(t, url)
	defer conn.Close(context.Background())
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		var pids []int32
		rows, err := conn.Query(t.Context(), `SELECT pid FROM pg_stat_activity
 WHERE datname = current_database() AND query = 'LISTEN orderapi_events' AND pid <> ALL ($1)`, append([]int32{}, not...))
		if err == nil {
			for rows.Next() {
				var pid int32
				if err = rows.Scan(&pid); err != nil {
					break
				}
				pids = append(pids, pid)
			}
			rows.Close()
		}
		if err == nil && len(pids) == 1 {
			return pids[0]
		}
		if time.Now().After(deadline) {
			t.Fatalf("listening backends %v (%v), want one", pids, err)
		}
	}
}

// stopBackend stops the server process of backend pid of the database of
// url with SIGSTOP, and continues it when the test ends. It checks first
// that the process is that backend, as the server names its processes: a
// server elsewhere (a container) numbers its processes apart. Where the
// process cannot be stopped so the test is skipped, except under CI.
func stopBackend(t *testing.T, url string, pid int32) {
	t.Helper()
	conn := pgtest.Connect(t, url)
	var db string
	err := conn.QueryRow(t.Context(), `SELECT current_database()`).Scan(&db)
	conn.Close(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	title, err := os.ReadFile("/proc/" + strconv.Itoa(int(pid)) + "/cmdline")
	cannot := func(why string) {
		t.Helper()
		if ci, _ := strconv.ParseBool(os.Getenv("CI")); ci {
			t.Fatalf("cannot stop the listening backend: %s", why)
		}
		t.Skipf("cannot stop the listening backend: %s", why)
	}
	if err != nil || !strings.Contains(string(title), "postgres") || !strings.Contains(string(title), " "+db+" ") {
		cannot(fmt.Sprintf("process %d is not this machine's backend of %s (%q, %v)", pid, db, title, err))
	}
	if err := syscall.Kill(int(pid), syscall.SIGSTOP); err != nil {
		cannot(fmt.Sprintf("SIGSTOP: %v", err))
	}
	t.Cleanup(func() { _ = syscall.Kill(int(pid), syscall.SIGCONT) })
}
