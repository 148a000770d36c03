package main

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/orderapi/orderapi/api/asyncapitest"
	"github.com/orderapi/orderapi/internal/adapters/natsrelay/natstest"
	"github.com/orderapi/orderapi/internal/adapters/personaldata"
	"github.com/orderapi/orderapi/internal/adapters/postgres/datakeys"
	"github.com/orderapi/orderapi/internal/adapters/postgres/eventstore"
	"github.com/orderapi/orderapi/internal/adapters/postgres/eventstore/eventstoretest"
	"github.com/orderapi/orderapi/internal/adapters/postgres/pgtest"
	"github.com/orderapi/orderapi/internal/domain/customer"
	"github.com/orderapi/orderapi/internal/domain/order"
)

// testKeyring is a keyring of testMasterKey over the pool: what the
// service of these tests seals with.
func testKeyring(t *testing.T, pool *pgxpool.Pool) *personaldata.Keyring {
	t.Helper()
	raw, err := hex.DecodeString(testMasterKey)
	if err != nil {
		t.Fatal(err)
	}
	k, err := personaldata.NewFileMasterKey(raw)
	if err != nil {
		t.Fatal(err)
	}
	return personaldata.NewKeyring(datakeys.New(pool), personaldata.NewMasterKeys(k))
}

// customerWithKey gives a new customer a data key, as its first personal
// data does, in the database of dbURL; the pool closes when t ends.
func customerWithKey(t *testing.T, dbURL string) (*pgxpool.Pool, uuid.UUID, *personaldata.DataKey) {
	t.Helper()
	pool, err := pgxpool.New(context.Background(), dbURL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	c := uuid.New()
	key, err := testKeyring(t, pool).ForSealing(t.Context(), c)
	if err != nil {
		t.Fatal(err)
	}
	return pool, c, key
}

// erase sends the erasure of the customer's personal data to base and
// returns the status.
func erase(t *testing.T, base string, c uuid.UUID) int {
	t.Helper()
	req, err := http.NewRequest("DELETE", base+"/v1/customers/"+c.String()+"/personal-data", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := authed.Do(req)
	if err != nil {
		return 0 // the server died
	}
	resp.Body.Close()
	return resp.StatusCode
}

// erasureState is what the database says of a customer's erasure: whether
// its key still opens for a fresh replica, and how many erasures its
// stream records.
func erasureState(t *testing.T, pool *pgxpool.Pool, key *personaldata.DataKey) (opens bool, records int) {
	t.Helper()
	_, err := testKeyring(t, pool).Key(t.Context(), key.ID)
	if err != nil && !errors.Is(err, personaldata.ErrErased) {
		t.Fatal(err)
	}
	if err := pool.QueryRow(t.Context(), `SELECT count(*) FROM events WHERE stream_id = $1`, customer.StreamID(key.CustomerID)).Scan(&records); err != nil {
		t.Fatal(err)
	}
	return err == nil, records
}

// TestACrashBetweenTheKeysDestructionAndTheRecord: the erasure's keys are
// destroyed and its record appended in one transaction. Held between the
// two (its append waits for a lock the test holds on the events table),
// the server is killed with SIGKILL, or its database session is; either
// way the customer is neither erased nor on record, and a retry completes
// the erasure, once.
func TestACrashBetweenTheKeysDestructionAndTheRecord(t *testing.T) {
	t.Parallel()
	bin := buildBinary(t)
	for _, crash := range []string{"server killed", "database session killed"} {
		t.Run(crash, func(t *testing.T) {
			t.Parallel()
			// Given a server, and a customer with personal data
			dbURL := pgtest.NewURL(t)
			srv := startReplica(t, bin, dbURL)
			pool, c, key := customerWithKey(t, dbURL)

			// When its erasure is held after destroying the keys, before
			// its record, and then the server or its session is killed
			hold := holdEventsTable(t, dbURL)
			answered := make(chan int, 1)
			go func() { answered <- erase(t, srv.base, c) }()
			pid := waitErasureHeld(t, pool)
			switch crash {
			case "server killed":
				srv.kill(t)
			default:
				if _, err := pool.Exec(t.Context(), `SELECT pg_terminate_backend($1, 10000)`, pid); err != nil {
					t.Fatal(err)
				}
			}
			if err := hold.Rollback(context.Background()); err != nil {
				t.Fatal(err)
			}
			status := <-answered
			waitSessionGone(t, pool, pid)

			// Then the erasure did not happen at all: not answered 204,
			// the key opens, nothing is recorded
			if status == http.StatusNoContent {
				t.Errorf("the erasure answered %d", status)
			}
			if opens, records := erasureState(t, pool, key); !opens || records != 0 {
				t.Fatalf("after the crash: key opens %t, %d records; want the key live and no record", opens, records)
			}

			// When the request is retried, on a server that runs
			if crash == "server killed" {
				srv = startReplica(t, bin, dbURL)
			}
			for range 2 {
				if status := erase(t, srv.base, c); status != http.StatusNoContent {
					t.Fatalf("retry: %d", status)
				}
			}
			// Then the customer is erased and on record, once
			if opens, records := erasureState(t, pool, key); opens || records != 1 {
				t.Errorf("after the retries: key opens %t, %d records; want it destroyed and one record", opens, records)
			}
		})
	}
}

// holdEventsTable takes a lock on the events table that lets reads and
// the keys' destruction pass and holds every append, in a transaction
// the caller ends.
func holdEventsTable(t *testing.T, dbURL string) pgx.Tx {
	t.Helper()
	conn, err := pgx.Connect(context.Background(), dbURL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	tx, err := conn.Begin(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(context.Background(), `LOCK TABLE events IN SHARE ROW EXCLUSIVE MODE`); err != nil {
		t.Fatal(err)
	}
	return tx
}

// waitErasureHeld waits for a session waiting to append an erasure's
// record after destroying keys in its transaction, and returns its pid.
func waitErasureHeld(t *testing.T, pool *pgxpool.Pool) int32 {
	t.Helper()
	const sql = `
SELECT a.pid FROM pg_stat_activity a
 WHERE a.datname = current_database() AND a.wait_event_type = 'Lock' AND a.query LIKE '%INSERT INTO events%'
   AND EXISTS (SELECT FROM pg_locks l WHERE l.pid = a.pid AND l.relation = 'customer_data_keys'::regclass
                                         AND l.mode = 'RowExclusiveLock' AND l.granted)`
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		var pid int32
		err := pool.QueryRow(t.Context(), sql).Scan(&pid)
		if err == nil {
			return pid
		}
		if !errors.Is(err, pgx.ErrNoRows) || time.Now().After(deadline) {
			t.Fatalf("no erasure held between its keys and its record: %v", err)
		}
	}
}

// waitSessionGone waits for the session pid to end.
func waitSessionGone(t *testing.T, pool *pgxpool.Pool, pid int32) {
	t.Helper()
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		var alive bool
		if err := pool.QueryRow(t.Context(), `SELECT EXISTS (SELECT FROM pg_stat_activity WHERE pid = $1)`, pid).Scan(&alive); err != nil {
			t.Fatal(err)
		}
		if !alive {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("session %d still there", pid)
		}
	}
}

// TestAnErasureReachesTheBrokerAndEveryReaderPassesIt: the record of an
// erasure is published to the broker as the document describes, and
// every reader of the events (the analytics consumer, projections
// verify and rebuild, check, a restart's schema check) goes past it.
func TestAnErasureReachesTheBrokerAndEveryReaderPassesIt(t *testing.T) {
	t.Parallel()
	// Given the service publishing to a stream of its own, and a
	// customer's delivered order
	url := natstest.URL(t)
	names := natstest.Unique(t, url)
	dbURL := pgtest.NewURL(t)
	addr, stop := startServerWith(t, dbURL, map[string]string{
		"ORDERAPI_NATS_URL": url, "ORDERAPI_NATS_STREAM": names.Stream, "ORDERAPI_NATS_SUBJECT_PREFIX": names.Prefix,
	}, io.Discard)
	base := "http://" + addr
	newOrder(t, authed, base)
	c := uuid.MustParse("0193a000-0000-7000-8000-0000000000c1")

	// When the customer's personal data is erased
	if status := erase(t, base, c); status != http.StatusNoContent {
		t.Fatalf("erase = %d", status)
	}

	// Then the broker has the erasure after the order's five events, on
	// the customer stream's subject, as the document describes it
	_, js := natstest.JetStream(t, url)
	var msg *jetstream.RawStreamMsg
	for deadline := time.Now().Add(30 * time.Second); msg == nil; time.Sleep(50 * time.Millisecond) {
		if s, err := js.Stream(t.Context(), names.Stream); err == nil {
			msg, _ = s.GetMsg(t.Context(), 6)
		}
		if msg == nil && time.Now().After(deadline) {
			t.Fatal("no sixth message on the stream")
		}
	}
	asyncapitest.Validate(t, customer.TypePersonalDataErased, msg.Data)
	stream := customer.StreamID(c).String()
	var ce struct {
		Type, Subject string
		Data          struct {
			CustomerID string   `json:"customer_id"`
			DataKeys   []string `json:"data_keys"`
		}
	}
	if err := json.Unmarshal(msg.Data, &ce); err != nil || msg.Subject != names.Prefix+"."+customer.TypePersonalDataErased+"."+stream ||
		ce.Subject != stream || ce.Type != "dev.orderapi.customer.personal_data_erased.v1" || ce.Data.CustomerID != c.String() || len(ce.Data.DataKeys) != 1 {
		t.Errorf("message on %s: %s (%v)", msg.Subject, msg.Data, err)
	}
	// And the analytics consumer passes it
	waitAnalyticsAtHead(t, dbURL)
	// And the read models verify, rebuild and verify again
	for _, args := range [][]string{{"verify"}, {"rebuild"}, {"verify"}} {
		if out, err := projectionsCmd(t, dbURL, args...); err != nil {
			t.Fatalf("projections %s: %v\n%s", args, err, out)
		}
	}
	// And check finds every event readable
	vars := env(withMasterKey(t, map[string]string{"DATABASE_URL": dbURL, "LOG_LEVEL": "warn"}))
	if err := run(context.Background(), []string{"orderapi", "check"}, vars, io.Discard); err != nil {
		t.Errorf("check: %v", err)
	}
	// And the service starts again on it
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	addr, _ = startServer(t, dbURL)
	if body := get(t, "http://"+addr+"/v1/orders/"+stream); !strings.Contains(body, `"order_not_found"`) {
		t.Errorf("the customer's stream as an order: %s", body)
	}
}

// TestPersonalDataReapplyAfterARestore: a backup taken before an erasure
// brings the customer's key back; personal-data reapply, given the
// broker's message of that erasure, destroys it again.
func TestPersonalDataReapplyAfterARestore(t *testing.T) {
	t.Parallel()
	// Given a customer's key, and the key table as a backup keeps it
	dbURL := pgtest.NewURL(t)
	addr, _ := startServer(t, dbURL)
	base := "http://" + addr
	pool, c, key := customerWithKey(t, dbURL)
	var wrapped []byte
	var master string
	if err := pool.QueryRow(t.Context(), `SELECT wrapped_key, master_key_id FROM customer_data_keys WHERE key_id = $1`, key.ID).Scan(&wrapped, &master); err != nil {
		t.Fatal(err)
	}
	// And the customer erased, as the broker tells it
	if status := erase(t, base, c); status != http.StatusNoContent {
		t.Fatalf("erase = %d", status)
	}
	var event struct {
		ID         string
		OccurredAt time.Time
	}
	if err := pool.QueryRow(t.Context(), `SELECT event_id::text, occurred_at FROM events WHERE stream_id = $1`, customer.StreamID(c)).Scan(&event.ID, &event.OccurredAt); err != nil {
		t.Fatal(err)
	}
	message := fmt.Sprintf(`{"specversion":"1.0","id":%q,"source":"/orderapi","type":"dev.orderapi.customer.personal_data_erased.v1",`+
		`"subject":%q,"time":%q,"datacontenttype":"application/json","data":{"customer_id":%q,"data_keys":[%q]},"orderapiposition":"9","orderapitxid":"9","orderapiversion":1}`,
		event.ID, customer.StreamID(c), event.OccurredAt.UTC().Format(time.RFC3339Nano), c, key.ID)
	asyncapitest.Validate(t, customer.TypePersonalDataErased, []byte(message))
	messages := filepath.Join(t.TempDir(), "erasures.json")
	if err := os.WriteFile(messages, []byte(message+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	// And a restore of the backup: the key back, the erasure's record gone
	if _, err := pool.Exec(t.Context(), `UPDATE customer_data_keys SET wrapped_key = $2, master_key_id = $3, destroyed_at = NULL WHERE key_id = $1`,
		key.ID, wrapped, master); err != nil {
		t.Fatal(err)
	}
	execSQL(t, dbURL, `ALTER TABLE events DISABLE TRIGGER events_immutable_rows; DELETE FROM events WHERE event_type = 'CustomerPersonalDataErased';
ALTER TABLE events ENABLE TRIGGER events_immutable_rows`)
	if opens, records := erasureState(t, pool, key); !opens || records != 0 {
		t.Fatalf("after the restore: key opens %t, %d records", opens, records)
	}

	// When personal-data reapply runs with the broker's messages
	vars := env(withMasterKey(t, map[string]string{"DATABASE_URL": dbURL, "LOG_LEVEL": "warn"}))
	var out strings.Builder
	if err := run(context.Background(), []string{"orderapi", "personal-data", "reapply", "--from", messages}, vars, &out); err != nil {
		t.Fatal(err)
	}

	// Then the key is destroyed again and the erasure on record again
	if !strings.Contains(out.String(), "applied 1 erasures again (0 on record here, 1 from --from): 1 found keys to destroy") {
		t.Errorf("printed %q", out.String())
	}
	if opens, records := erasureState(t, pool, key); opens || records != 1 {
		t.Errorf("after reapply: key opens %t, %d records", opens, records)
	}
	// And running it again does nothing more
	out.Reset()
	if err := run(context.Background(), []string{"orderapi", "personal-data", "reapply", "--from", messages}, vars, &out); err != nil ||
		!strings.Contains(out.String(), ": 0 found keys to destroy") {
		t.Errorf("again: %q, %v", out.String(), err)
	}
}

// TestPersonalDataReapplyKeepsWhatACustomerGaveAfterItsErasure:
// reapply on a database that lost nothing (or given a forged erasure
// naming another customer's key) destroys no key, and so clears no read
// model row: what the erased customer gave afterwards, under its new key,
// reads back, and the read models agree with the events.
func TestPersonalDataReapplyKeepsWhatACustomerGaveAfterItsErasure(t *testing.T) {
	t.Parallel()
	// Given a customer erased with an order placed, and another customer
	s := newShop(t, pgtest.NewURL(t), "ORDERAPI_TEST_REAPPLY_SEED")
	s.start(nil)
	erased, other := s.addCustomer(), s.addCustomer()
	s.bring(erased, "placed")
	bystander := s.bring(other, "placed")
	s.erase(erased)
	// And the customer back afterwards, under a new key: an order
	// delivered with a signature, one cancelled with a reason
	delivered := s.bring(erased, "shipped")
	s.deliverSigned(delivered)
	cancelled := s.bring(erased, "placed")
	s.cancel(cancelled)
	before := map[string]reply{}
	for _, o := range []*shopOrder{delivered, cancelled, bystander} {
		before[o.id] = s.get("/v1/orders/" + o.id)
	}
	// And a forged erasure of the customer naming the other's key
	pool := pgtest.Connect(t, s.dbURL)
	var otherKey string
	if err := pool.QueryRow(t.Context(), `SELECT key_id::text FROM customer_data_keys WHERE customer_id = $1`, other.id).Scan(&otherKey); err != nil {
		t.Fatal(err)
	}
	forged := filepath.Join(t.TempDir(), "forged.json")
	if err := os.WriteFile(forged, fmt.Appendf(nil, `{"event_id":%q,"type":%q,"occurred_at":%q,"data":{"customer_id":%q,"data_keys":[%q]}}`,
		uuid.NewString(), customer.TypePersonalDataErased, time.Now().UTC().Format(time.RFC3339Nano), erased.id, otherKey), 0o600); err != nil {
		t.Fatal(err)
	}
	vars := env(withMasterKey(t, map[string]string{"DATABASE_URL": s.dbURL, "LOG_LEVEL": "warn"}))

	for _, args := range [][]string{{"reapply"}, {"reapply", "--from", forged}} {
		// When personal-data reapply runs on the database, nothing restored
		var out strings.Builder
		err := run(context.Background(), append([]string{"orderapi", "personal-data"}, args...), vars, &out)

		// Then it destroys nothing
		if err != nil || !strings.Contains(out.String(), ": 0 found keys to destroy") {
			t.Errorf("%s: %q, %v", args, out.String(), err)
		}
		// And the read models agree with the events
		out.Reset()
		if err := run(context.Background(), []string{"orderapi", "projections", "verify"}, vars, &out); err != nil {
			t.Errorf("%s: projections verify: %v\n%s", args, err, out.String())
		}
		// And the orders read as before, their personal data with them
		for _, o := range []*shopOrder{delivered, cancelled, bystander} {
			if got := s.get("/v1/orders/" + o.id); got.status != http.StatusOK || !sameJSON(got.body, before[o.id].body) {
				t.Errorf("%s: order %s reads\n%s\nwant\n%s", args, o.id, got.body, before[o.id].body)
			}
		}
	}
}

func TestPersonalDataSealSealsTheEventsStoredInClear(t *testing.T) {
	t.Parallel()
	// Given an order placed and cancelled before sealing began
	pool := pgtest.New(t)
	dbURL := pool.Config().ConnString()
	clear := eventstore.New(pool, eventstore.Config{})
	o := eventstoretest.Create(t, clear, uuid.New(), uuid.New(), time.Now())
	o = eventstoretest.Do(t, clear, o, time.Now(), eventstoretest.AddItem("Tea", "4.50", 1))
	o = eventstoretest.Do(t, clear, o, time.Now(), eventstoretest.Place)
	eventstoretest.Do(t, clear, o, time.Now(), func(o *order.Order) ([]order.Event, error) { return o.Cancel("Quillfeather regrets", "staff:lin") })
	inClear := func() bool {
		var n int
		if err := pool.QueryRow(t.Context(), `SELECT count(*) FROM events WHERE data::text LIKE '%Quillfeather%' OR data::text LIKE '%Ada Lovelace%'`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n > 0
	}
	if !inClear() {
		t.Fatal("the events were not written in clear")
	}

	// When personal-data seal runs, twice
	vars := env(withMasterKey(t, map[string]string{"DATABASE_URL": dbURL, "LOG_LEVEL": "warn"}))
	var first, second strings.Builder
	if err := run(context.Background(), []string{"orderapi", "personal-data", "seal"}, vars, &first); err != nil {
		t.Fatal(err)
	}
	if err := run(context.Background(), []string{"orderapi", "personal-data", "seal"}, vars, &second); err != nil {
		t.Fatal(err)
	}

	// Then the two events with personal data were sealed, once
	if !strings.Contains(first.String(), "sealed the personal data of 2 events") || !strings.Contains(second.String(), " 0 events") {
		t.Errorf("first run: %q; second: %q", first.String(), second.String())
	}
	if inClear() {
		t.Error("personal data is still in clear in the events")
	}
}
