package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/google/uuid"
)

// What sealing personal data costs: place order (which seals the
// address) and get placed order (which opens it), each against two more
// servers, each on a fresh database of its own: one that seals as
// production does, and, as "(sealing off)", one that stores personal data
// in clear (ORDERAPI_PERSONAL_DATA_SEALING=off, which development mode,
// as every server of the benchmark runs in, accepts). The binary, its
// settings, the requests and the databases' histories are the same:
// nothing but sealing tells the two apart. The sealing server's figures
// stand in the main table too, beside their floors.
const (
	placeClearName     = "place order (sealing off)"
	getPlacedClearName = "get placed order (sealing off)"
)

// sealingPairs are the pairs, sealing off then on.
var sealingPairs = [][2]string{{placeClearName, placeOrderName}, {getPlacedClearName, getPlacedOrderName}}

// isSealingOffScenario says whether a scenario runs on the server that
// does not seal.
func isSealingOffScenario(name string) bool {
	return name == placeClearName || name == getPlacedClearName
}

// sealingCostGoal bounds sealing's CPU per operation over none.
const sealingCostGoal = 1.10

// sealingServers are the two servers, sealing and not, each with its
// database, what it was seeded with for get placed order and what it
// acknowledged.
type sealingServers struct {
	sealed, clear *sealingServer
}

type sealingServer struct {
	srv    *server
	url    string
	ledger *ledger
	reads  readData
	// sealed says whether it seals.
	sealed bool
}

// startSealingServers starts the two servers and seeds each with
// placed orders for get placed order.
func startSealingServers(ctx context.Context, cfg config, bin string, dbs *databases, tmp string, auth *tokens, stdout io.Writer) (_ *sealingServers, err error) {
	ss := &sealingServers{}
	defer func() {
		if err != nil {
			ss.stop()
		}
	}()
	for _, s := range []struct {
		p      **sealingServer
		url    string
		sealed bool
		env    []string
	}{
		{&ss.sealed, dbs.sealedURL, true, []string{"ORDERAPI_PERSONAL_DATA_SEALING=on"}},
		{&ss.clear, dbs.clearURL, false, []string{"ORDERAPI_PERSONAL_DATA_SEALING=off"}},
	} {
		setting := strings.TrimPrefix(s.env[0], "ORDERAPI_PERSONAL_DATA_SEALING=")
		env := s.env
		if os.Getenv("ORDERAPI_DEBUG_ADDR") != "" {
			// The main server serves its profiles there: each of these
			// on a port of its own, to profile their scenarios.
			addr, err := freeAddr()
			if err != nil {
				return ss, err
			}
			env = append(env, "ORDERAPI_DEBUG_ADDR="+addr)
			fmt.Fprintf(stdout, "the server with sealing %s serves its profiles at %s\n", setting, addr)
		}
		srv, err := startServer(ctx, bin, s.url, filepath.Join(tmp, "server-sealing-"+setting+".log"), auth, env...)
		if err != nil {
			return ss, err
		}
		*s.p = &sealingServer{srv: srv, url: s.url, ledger: newLedger(), sealed: s.sealed}
	}
	if cfg.runs(getPlacedOrderName) || cfg.runs(getPlacedClearName) {
		for _, s := range []*sealingServer{ss.sealed, ss.clear} {
			fmt.Fprintf(stdout, "seeding %d placed orders with 2 items each on the server with sealing %s\n", cfg.SeedOrders, s.setting())
			if s.reads, err = seedPlacedOrders(ctx, s.srv.addr, auth, cfg.SeedOrders, 2); err != nil {
				return ss, err
			}
		}
	}
	return ss, nil
}

// setting is the server's ORDERAPI_PERSONAL_DATA_SEALING.
func (s *sealingServer) setting() string {
	if s.sealed {
		return "on"
	}
	return "off"
}

// stop stops the servers that started.
func (ss *sealingServers) stop() {
	for _, s := range []*sealingServer{ss.sealed, ss.clear} {
		if s != nil {
			s.srv.stop()
		}
	}
}

// verify checks every acknowledged write of both servers, and that the
// orders placed on each were stored as its setting says: sealed, or in
// clear.
func (ss *sealingServers) verify(ctx context.Context) (lost int, err error) {
	for _, s := range []*sealingServer{ss.sealed, ss.clear} {
		n, err := checkLedger(ctx, s.url, s.ledger)
		if err != nil {
			return 0, err
		}
		lost += n
		sealed, err := sealedPlaces(ctx, s.url, s.ledger.placed)
		if err != nil {
			return 0, err
		}
		want := 0
		if s.sealed {
			want = len(s.ledger.placed)
		}
		if sealed != want {
			return 0, fmt.Errorf("of %d orders placed on the server with sealing %s, %d were stored sealed, want %d",
				len(s.ledger.placed), s.setting(), sealed, want)
		}
	}
	return lost, nil
}

// sealedPlaces counts the orders of ids whose OrderPlaced event holds
// the address sealed.
func sealedPlaces(ctx context.Context, dbURL string, ids []uuid.UUID) (int, error) {
	pool, err := openPool(ctx, dbURL, 1)
	if err != nil {
		return 0, err
	}
	defer pool.Close()
	var n int
	// Filtered after the join, so that the events are found by stream
	// (see checkLedger).
	err = pool.QueryRow(ctx, `SELECT count(*) FILTER (WHERE e.event_type = 'OrderPlaced' AND e.personal_key IS NOT NULL)
  FROM unnest($1::uuid[]) AS p(id) JOIN events e ON e.stream_id = p.id`, ids).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("count sealed places: %w", err)
	}
	return n, nil
}

// sealingGoals: sealing costs place order and get placed order within
// sealingCostGoal of storing in clear, in CPU per operation, server and
// database together, at each concurrency measured.
func (rep report) sealingGoals() []goal {
	return rep.pairGoals(sealingPairs, sealingCostGoal, func(pair [2]string) string { return pair[1] }, "sealed vs clear")
}

// printSealing prints the pairs' medians, then each concurrency's ratios
// round by round.
func (rep report) printSealing(w io.Writer) {
	rep.printPairs(w, sealingPairs, "sealing personal data (off: a server on a database of its own with ORDERAPI_PERSONAL_DATA_SEALING=off)",
		"sealed / clear", func(pair [2]string) string { return pair[1] })
}
