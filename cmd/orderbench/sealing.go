package main

import (
	"context"
	"fmt"
	"io"
	"path/filepath"

	"github.com/google/uuid"
)

// What sealing personal data costs: place order (which seals the
// address) and get placed order (which opens it) run against the main
// server, which seals as production does, and, as "(sealing off)",
// against one more server on a fresh database of its own that stores
// personal data in clear (ORDERAPI_PERSONAL_DATA_SEALING=off, which
// development mode, as every server of the benchmark runs in, accepts).
// The binary, its settings and the requests are the same: nothing but
// sealing tells the two apart.
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

// clearServer is the server that does not seal, on a database of its own,
// what it was seeded with for get placed order, and what it acknowledged.
type clearServer struct {
	srv    *server
	url    string
	ledger *ledger
	reads  readData
}

// startClearServer starts the server that does not seal, and seeds it
// with placed orders for get placed order as the main server is.
func startClearServer(ctx context.Context, cfg config, bin string, dbs *databases, tmp string, auth *tokens, stdout io.Writer) (*clearServer, error) {
	srv, err := startServer(ctx, bin, dbs.clearURL, filepath.Join(tmp, "server-sealing-off.log"), auth, "ORDERAPI_PERSONAL_DATA_SEALING=off")
	if err != nil {
		return nil, err
	}
	cs := &clearServer{srv: srv, url: dbs.clearURL, ledger: newLedger()}
	if cfg.runs(getPlacedClearName) {
		fmt.Fprintf(stdout, "seeding %d placed orders on the server that does not seal\n", cfg.SeedOrders)
		if cs.reads, err = seedPlacedOrders(ctx, srv.addr, auth, cfg.SeedOrders, 2); err != nil {
			srv.stop()
			return nil, err
		}
	}
	return cs, nil
}

// verify checks every acknowledged write of the server that does not
// seal, and that the orders placed on each server were stored as its
// setting says: the main server's addresses sealed, the other's in clear.
func (cs *clearServer) verify(ctx context.Context, sealedURL string, sealed *ledger) (lost int, err error) {
	if lost, err = checkLedger(ctx, cs.url, cs.ledger); err != nil {
		return 0, err
	}
	for _, c := range []struct {
		url    string
		placed []uuid.UUID
		sealed bool
	}{{sealedURL, sealed.placed, true}, {cs.url, cs.ledger.placed, false}} {
		n, err := sealedPlaces(ctx, c.url, c.placed)
		if err != nil {
			return 0, err
		}
		want, setting := 0, "off"
		if c.sealed {
			want, setting = len(c.placed), "on"
		}
		if n != want {
			return 0, fmt.Errorf("of %d orders placed on the server with sealing %s, %d were stored sealed, want %d", len(c.placed), setting, n, want)
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
	err = pool.QueryRow(ctx, `SELECT count(*) FROM events WHERE stream_id = ANY($1) AND event_type = 'OrderPlaced' AND personal_key IS NOT NULL`,
		ids).Scan(&n)
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
