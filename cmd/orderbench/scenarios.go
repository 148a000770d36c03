package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"

	"github.com/google/uuid"
)

// The HTTP scenarios. Each client has a connection of its own and checks
// every answer's status: anything else is an error, and a run with errors
// fails the benchmark.

// addsPerOrder is how many items a client adds to one order before it
// moves to the next, as each floor client writes 40 versions per stream.
const addsPerOrder = 40

// itemName and itemPrice make an ItemAdded event about the size of the
// floor's payload.
const (
	itemName  = "Merino crew-neck sweater, blue, size L"
	itemPrice = "59.90"
)

func createBody(buf []byte, id, customer uuid.UUID) []byte {
	return fmt.Appendf(buf[:0], `{"id":%q,"customer_id":%q}`, id, customer)
}

func addItemBody(buf []byte, product uuid.UUID) []byte {
	return fmt.Appendf(buf[:0], `{"product_id":%q,"product_name":%q,"quantity":2,"unit_price":%q}`, product, itemName, itemPrice)
}

// placeBody places an order at an address with every line the API takes:
// the personal data that place order seals, as one value.
func placeBody(buf []byte) []byte {
	return append(buf[:0], `{"shipping_address":{"name":"Ada Lovelace","line1":"12 St James's Square","line2":"Second floor",`+
		`"city":"London","region":"Greater London","postal_code":"SW1Y 4JH","country":"GB"}}`...)
}

// call does a request and turns an unexpected status into an error.
func (h *httpConn) call(method, path string, body []byte, status int) error {
	r, err := h.do(method, path, body)
	if err != nil {
		return err
	}
	if r.status != status {
		return fmt.Errorf("%s %s: status %d, want %d: %.200s", method, path, r.status, status, r.body)
	}
	return nil
}

// readData is what the read scenarios read: orders, their customers and
// each customer's token. Orders seeded over HTTP have two items each,
// five per customer; owners, when set, says whose each order is.
type readData struct {
	orders    []uuid.UUID
	customers []uuid.UUID
	tokens    []string
	owners    []int
}

// owner is the index of order i's customer, for orders seeded over HTTP.
func owner(order int) int { return order / 5 }

// ownerOf is the index of order i's customer.
func (d readData) ownerOf(i int) int {
	if d.owners != nil {
		return d.owners[i]
	}
	return owner(i)
}

// seedOrders creates n orders over HTTP with items items each, 32 at a
// time, each with its customer's token; customer i owns orders
// 5i..5i+4. Order i is created about when the i-th of n would be.
func seedOrders(ctx context.Context, addr string, auth *tokens, n, items int) (readData, error) {
	return seed(ctx, addr, auth, n, items, false)
}

// seedPlacedOrders is seedOrders, each order then placed (placeBody).
func seedPlacedOrders(ctx context.Context, addr string, auth *tokens, n, items int) (readData, error) {
	return seed(ctx, addr, auth, n, items, true)
}

func seed(ctx context.Context, addr string, auth *tokens, n, items int, place bool) (readData, error) {
	d := readData{orders: make([]uuid.UUID, n), customers: make([]uuid.UUID, (n+4)/5), tokens: make([]string, (n+4)/5)}
	for i := range d.orders {
		d.orders[i] = uuid.New()
	}
	for i := range d.customers {
		d.customers[i] = uuid.New()
		var err error
		if d.tokens[i], err = auth.customer(d.customers[i]); err != nil {
			return readData{}, err
		}
	}
	var next atomic.Int64
	errs := make(chan error, 32)
	var wg sync.WaitGroup
	for range 32 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, err := dialHTTP(addr)
			if err != nil {
				errs <- err
				return
			}
			defer c.Close()
			var buf []byte
			for ctx.Err() == nil {
				i := int(next.Add(1)) - 1
				if i >= n {
					return
				}
				id := d.orders[i]
				c.token = d.tokens[owner(i)]
				buf = createBody(buf, id, d.customers[owner(i)])
				if err := c.call("POST", "/v1/orders", buf, 201); err != nil {
					errs <- fmt.Errorf("seed order %d: %w", i, err)
					return
				}
				for range items {
					buf = addItemBody(buf, uuid.New())
					if err := c.call("POST", "/v1/orders/"+id.String()+"/items", buf, 200); err != nil {
						errs <- fmt.Errorf("seed order %d item: %w", i, err)
						return
					}
				}
				if place {
					buf = placeBody(buf)
					if err := c.call("POST", "/v1/orders/"+id.String()+"/place", buf, 200); err != nil {
						errs <- fmt.Errorf("seed order %d place: %w", i, err)
						return
					}
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		return readData{}, err
	}
	return d, ctx.Err()
}

// httpWorker dials a connection for one client of a scenario.
func httpWorker(addr string, op func(c *httpConn) error) (worker, error) {
	c, err := dialHTTP(addr)
	if err != nil {
		return worker{}, err
	}
	return worker{op: func() error { return op(c) }, close: func() { c.Close() }}, nil
}

// getOrder reads random seeded orders, each as its customer.
func getOrder(addr string, d readData, seed uint64) func(i int) (worker, error) {
	return func(i int) (worker, error) {
		rng := rand.New(rand.NewPCG(seed, uint64(i)))
		return httpWorker(addr, func(c *httpConn) error {
			o := rng.IntN(len(d.orders))
			c.token = d.tokens[d.ownerOf(o)]
			return c.call("GET", "/v1/orders/"+d.orders[o].String(), nil, 200)
		})
	}
}

// listOrders lists random seeded customers' orders, each as the customer.
func listOrders(addr string, d readData, seed uint64) func(i int) (worker, error) {
	return func(i int) (worker, error) {
		rng := rand.New(rand.NewPCG(seed, uint64(i)))
		return httpWorker(addr, func(c *httpConn) error {
			cu := rng.IntN(len(d.customers))
			c.token = d.tokens[cu]
			return c.call("GET", "/v1/customers/"+d.customers[cu].String()+"/orders", nil, 200)
		})
	}
}

// ledger records every acknowledged write of the HTTP scenarios, so that
// the end of the benchmark can check that the database holds each one.
type ledger struct {
	mu      sync.Mutex
	adds    map[uuid.UUID]int // acknowledged items added, per order
	created []uuid.UUID       // orders acknowledged by create order
	placed  []uuid.UUID       // orders acknowledged by place order
}

func newLedger() *ledger { return &ledger{adds: make(map[uuid.UUID]int)} }

func (l *ledger) recordAdds(adds map[uuid.UUID]int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for id, n := range adds {
		l.adds[id] += n
	}
}

func (l *ledger) recordCreated(ids []uuid.UUID) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.created = append(l.created, ids...)
}

func (l *ledger) recordPlaced(ids []uuid.UUID) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.placed = append(l.placed, ids...)
}

// customersPerClient is how many customers a client of create order
// acts for in turn, each with its token made before the measurement.
const customersPerClient = 16

// createOrder creates orders with fresh ids, 4 at a time for each of the
// client's customers in turn, as that customer.
func createOrder(addr string, l *ledger, auth *tokens) func(i int) (worker, error) {
	return func(i int) (worker, error) {
		customers := make([]poolOrder, customersPerClient)
		for j := range customers {
			customers[j].customer = uuid.New()
			var err error
			if customers[j].token, err = auth.customer(customers[j].customer); err != nil {
				return worker{}, err
			}
		}
		c, err := dialHTTP(addr)
		if err != nil {
			return worker{}, err
		}
		var (
			buf     []byte
			created []uuid.UUID
		)
		op := func() error {
			cu := customers[len(created)/4%len(customers)]
			c.token = cu.token
			id := uuid.New()
			buf = createBody(buf, id, cu.customer)
			if err := c.call("POST", "/v1/orders", buf, 201); err != nil {
				return err
			}
			created = append(created, id)
			return nil
		}
		return worker{op: op, close: func() {
			c.Close()
			l.recordCreated(created)
		}}, nil
	}
}

// poolOrder is an order of an add-item client's, its customer and the
// customer's token.
type poolOrder struct {
	id, customer uuid.UUID
	token        string
}

// addItem adds distinct items to the client's own orders, addsPerOrder
// each, as their customers, taken from orders created before the
// measurement; a client that runs out creates its next order, for the
// customer of its last, within its operation (counted in the report).
// Each client owns its orders: no two clients write one stream, as in
// the floor.
func addItem(addr string, l *ledger, pools [][]poolOrder, lateCreates *atomic.Int64) func(i int) (worker, error) {
	return func(i int) (worker, error) {
		c, err := dialHTTP(addr)
		if err != nil {
			return worker{}, err
		}
		var (
			buf    []byte
			pool   = pools[i]
			adds   = make(map[uuid.UUID]int)
			order  poolOrder
			onThis = addsPerOrder
		)
		op := func() error {
			if onThis == addsPerOrder {
				if len(pool) > 0 {
					order, pool = pool[0], pool[1:]
					c.token = order.token
				} else if buf, err = c.createLate(buf, &order, 0, lateCreates); err != nil {
					return err
				}
				onThis = 0
			}
			buf = addItemBody(buf, uuid.New())
			if err := c.call("POST", "/v1/orders/"+order.id.String()+"/items", buf, 200); err != nil {
				return err
			}
			onThis++
			adds[order.id]++
			return nil
		}
		return worker{op: op, close: func() {
			c.Close()
			l.recordAdds(adds)
		}}, nil
	}
}

// createLate creates, within a measurement, the next order of a client
// that ran out of the orders made for it before: for the customer of its
// last, o, with items items, counted in lateCreates. o becomes the new
// order.
func (h *httpConn) createLate(buf []byte, o *poolOrder, items int, lateCreates *atomic.Int64) ([]byte, error) {
	o.id = uuid.New()
	buf = createBody(buf, o.id, o.customer)
	if err := h.call("POST", "/v1/orders", buf, 201); err != nil {
		return buf, err
	}
	for range items {
		buf = addItemBody(buf, uuid.New())
		if err := h.call("POST", "/v1/orders/"+o.id.String()+"/items", buf, 200); err != nil {
			return buf, err
		}
	}
	lateCreates.Add(1)
	return buf, nil
}

// createPools creates, before an add-item measurement, perClient orders
// for each of clients clients.
func createPools(ctx context.Context, addr string, auth *tokens, clients, perClient int) ([][]poolOrder, error) {
	d, err := seedOrders(ctx, addr, auth, clients*perClient, 0)
	if err != nil {
		return nil, err
	}
	pools := make([][]poolOrder, clients)
	for i := range pools {
		pools[i] = make([]poolOrder, perClient)
		for j := range pools[i] {
			o := i*perClient + j
			pools[i][j] = poolOrder{id: d.orders[o], customer: d.customers[owner(o)], token: d.tokens[owner(o)]}
		}
	}
	return pools, nil
}

// createDrafts creates, before a place-order measurement, about perClient
// drafts of one item for each of clients clients, five per customer.
// Client i's are the orders of customers i, i+clients, i+2·clients…, so
// that each client's last are among the last created, whose states the
// server still keeps after their commands (ORDERAPI_STATE_CACHE): a client
// places its newest first, as a customer places an order just filled. A
// customer's orders are placed by one client, one after the other: its
// first makes its data key, as a customer's first personal data does,
// and the others find it made.
func createDrafts(ctx context.Context, addr string, auth *tokens, clients, perClient int) ([][]poolOrder, error) {
	customers := (perClient + 4) / 5
	d, err := seedOrders(ctx, addr, auth, clients*customers*5, 1)
	if err != nil {
		return nil, err
	}
	pools := make([][]poolOrder, clients)
	for o, id := range d.orders {
		i := owner(o) % clients
		pools[i] = append(pools[i], poolOrder{id: id, customer: d.customers[owner(o)], token: d.tokens[owner(o)]})
	}
	return pools, nil
}

// placeOrder places the client's drafts, newest first, each as its
// customer, at an address (placeBody); a client that runs out creates its
// next draft, for the customer of its last, within its operation
// (counted in the report).
func placeOrder(addr string, l *ledger, pools [][]poolOrder, lateCreates *atomic.Int64) func(i int) (worker, error) {
	return func(i int) (worker, error) {
		var (
			buf    []byte
			pool   = pools[i]
			o      poolOrder
			placed []uuid.UUID
		)
		w, err := httpWorker(addr, func(c *httpConn) (err error) {
			if n := len(pool); n > 0 {
				o, pool = pool[n-1], pool[:n-1]
				c.token = o.token
			} else if buf, err = c.createLate(buf, &o, 1, lateCreates); err != nil {
				return err
			}
			buf = placeBody(buf)
			if err := c.call("POST", "/v1/orders/"+o.id.String()+"/place", buf, 200); err != nil {
				return err
			}
			placed = append(placed, o.id)
			return nil
		})
		if err != nil {
			return worker{}, err
		}
		closeConn := w.close
		w.close = func() {
			closeConn()
			l.recordPlaced(placed)
		}
		return w, nil
	}
}
