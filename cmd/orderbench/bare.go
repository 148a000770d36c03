package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"time"

	"github.com/google/uuid"
)

// The bare handler is the reference for the reads: net/http and pgx with
// nothing else, answering GET /orders/{id} with the order_details row as
// JSON, from the same database the server reads. No middleware, logging,
// metrics, validation or domain: what the service's read costs beyond it
// is what its layers cost. It runs as a process of its own, like the
// server, started by re-running this binary with bareHandlerArg.
const bareHandlerArg = "bare-handler"

// bareOrderSQL reads what GET /v1/orders/{id} shows.
const bareOrderSQL = `
SELECT order_id, customer_id, status, currency, items, item_count, total::text, version, created_at, updated_at
  FROM order_details
 WHERE order_id = $1`

type bareOrder struct {
	ID         uuid.UUID       `json:"id"`
	CustomerID uuid.UUID       `json:"customer_id"`
	Status     string          `json:"status"`
	Currency   string          `json:"currency"`
	Items      json.RawMessage `json:"items"`
	ItemCount  int             `json:"item_count"`
	Total      string          `json:"total"`
	Version    int             `json:"version"`
	CreatedAt  time.Time       `json:"created_at"`
	UpdatedAt  time.Time       `json:"updated_at"`
}

// serveBare is the bare handler's process: it serves on addr until its
// parent closes its stdin.
func serveBare(addr, dbURL string) error {
	ctx := context.Background()
	pool, err := openPool(ctx, dbURL, 16)
	if err != nil {
		return err
	}
	defer pool.Close()
	mux := http.NewServeMux()
	mux.HandleFunc("GET /orders/{id}", func(w http.ResponseWriter, r *http.Request) {
		id, err := uuid.Parse(r.PathValue("id"))
		if err != nil {
			http.Error(w, "bad id", http.StatusBadRequest)
			return
		}
		var o bareOrder
		err = pool.QueryRow(r.Context(), bareOrderSQL, [16]byte(id)).Scan(
			(*[16]byte)(&o.ID), (*[16]byte)(&o.CustomerID), &o.Status, &o.Currency, &o.Items,
			&o.ItemCount, &o.Total, &o.Version, &o.CreatedAt, &o.UpdatedAt)
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		body, err := json.Marshal(o)
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Write(body)
	})
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	go func() {
		// The parent ends us by closing our stdin.
		var b [1]byte
		os.Stdin.Read(b[:])
		ln.Close()
	}()
	err = http.Serve(ln, mux)
	if errors.Is(err, net.ErrClosed) {
		return nil
	}
	return err
}

// bareServer is a running bare handler.
type bareServer struct {
	addr  string
	cmd   *exec.Cmd
	stdin interface{ Close() error }
}

func startBare(ctx context.Context, dbURL string) (*bareServer, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, err
	}
	addr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(self, bareHandlerArg, addr, dbURL)
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	b := &bareServer{addr: addr, cmd: cmd, stdin: stdin}
	deadline := time.Now().Add(10 * time.Second)
	for {
		c, err := net.Dial("tcp", addr)
		if err == nil {
			c.Close()
			return b, nil
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			b.stop()
			return nil, fmt.Errorf("bare handler not listening: %v", err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (b *bareServer) stop() {
	b.stdin.Close()
	done := make(chan struct{})
	go func() { b.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		b.cmd.Process.Kill()
		<-done
	}
}

// bareRead reads random seeded orders from the bare handler.
func bareRead(addr string, d readData, seed uint64) func(i int) (worker, error) {
	return func(i int) (worker, error) {
		rng := newRand(seed, uint64(i))
		return httpWorker(addr, func(c *httpConn) error {
			id := d.orders[rng.IntN(len(d.orders))]
			return c.call("GET", "/orders/"+id.String(), nil, 200)
		})
	}
}
