package bulkload

import (
	"container/heap"
	"context"
	"fmt"
	"math/rand/v2"
	"sync/atomic"
	"time"

	"github.com/orderapi/orderapi/internal/adapters/postgres/eventstore"
)

// blockOrders is how many orders one unit of generation decides, with a
// random source of its own: the load is the same however many goroutines
// decide it.
const blockOrders = 1024

// block is the orders of one block, decided.
type block struct {
	orders  []built
	details []eventstore.DetailsRow
}

// plan is where a load's orders and events go: how many events each
// block of orders takes, when each order is created.
type plan struct {
	cfg          Config
	start, until time.Time
	every        time.Duration // between two orders' creations
}

func newPlan(cfg Config) plan {
	return plan{cfg: cfg, start: cfg.Until.Add(-cfg.Span), until: cfg.Until, every: cfg.Span / time.Duration(cfg.Orders)}
}

func (p plan) blocks() int { return (p.cfg.Orders + blockOrders - 1) / blockOrders }

// decide decides block b's orders.
func (p plan) decide(h *historian, b int) (block, error) {
	first, end := b*blockOrders, min((b+1)*blockOrders, p.cfg.Orders)
	rng := rand.New(rand.NewPCG(p.cfg.Seed, uint64(b)+1))
	// The events are spread evenly over the blocks, exactly: the
	// load holds as many as asked.
	budget := int(int64(p.cfg.Events)*int64(end)/int64(p.cfg.Orders) - int64(p.cfg.Events)*int64(first)/int64(p.cfg.Orders))
	lengths := orderLengths(rng, end-first, budget)
	out := block{orders: make([]built, len(lengths)), details: make([]eventstore.DetailsRow, len(lengths))}
	for j, n := range lengths {
		i := first + j
		created := p.start.Add(p.every*time.Duration(i) + rng.N(p.every)).Truncate(time.Microsecond)
		b, err := h.build(rng, n, created, p.until)
		if err != nil {
			return block{}, err
		}
		if out.details[j], err = eventstore.DetailsFromOrder(b.state); err != nil {
			return block{}, fmt.Errorf("order %s: %w", b.state.ID, err)
		}
		out.orders[j] = b
	}
	return out, nil
}

// orderLengths draws n orders' numbers of events, about evenly between 1
// and twice their mean, then moves single events between them until
// they add up to budget.
func orderLengths(rng *rand.Rand, n, budget int) []int {
	mean := float64(budget) / float64(n)
	hi := max(1, int(2*mean-1+0.5))
	most := max(hi, (budget+n-1)/n)
	lengths := make([]int, n)
	sum := 0
	for i := range lengths {
		lengths[i] = 1 + rng.IntN(hi)
		sum += lengths[i]
	}
	for sum != budget {
		i := rng.IntN(n)
		switch {
		case sum > budget && lengths[i] > 1:
			lengths[i]--
			sum--
		case sum < budget && lengths[i] < most:
			lengths[i]++
			sum++
		}
	}
	return lengths
}

// generate decides the plan's blocks on workers goroutines and sends
// them, in order, on out, which it closes once all are sent; at most
// 2 × workers blocks are decided ahead of the one the receiver waits for.
func (p plan) generate(ctx context.Context, h *historian, workers int, out chan<- block) error {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	n := p.blocks()
	slots := make([]chan block, n)
	for i := range slots {
		slots[i] = make(chan block, 1)
	}
	// Blocks are taken in order, so the one awaited is always being
	// decided, by a worker that holds one of these.
	ahead := make(chan struct{}, 2*workers)
	var next atomic.Int64
	for range workers {
		go func() {
			for {
				select {
				case ahead <- struct{}{}:
				case <-ctx.Done():
					return
				}
				b := int(next.Add(1)) - 1
				if b >= n {
					return
				}
				blk, err := p.decide(h, b)
				if err != nil {
					cancel(err)
					return
				}
				slots[b] <- blk
			}
		}()
	}
	for b := range n {
		select {
		case blk := <-slots[b]:
			<-ahead
			select {
			case out <- blk:
			case <-ctx.Done():
				return context.Cause(ctx)
			}
		case <-ctx.Done():
			return context.Cause(ctx)
		}
	}
	close(out)
	return nil
}

// timeline interleaves the orders' events by the time they occurred, as
// the shop recorded them, and cuts them into batches of the events
// writers. An order arrives whole, at its creation: every event before
// that time, of the orders that arrived before it, goes first.
type timeline struct {
	pending  pendingOrders
	arrived  int
	rng      *rand.Rand
	recorded time.Time
	batch    []eventRow
	size     int
	send     func([]eventRow) error
}

// add takes the next order, in creation order.
func (t *timeline) add(b built) error {
	created := b.events[0].occurred
	for len(t.pending) > 0 && !t.pending[0].at().After(created) {
		if err := t.emit(); err != nil {
			return err
		}
	}
	heap.Push(&t.pending, &pendingOrder{rows: b.events, index: t.arrived})
	t.arrived++
	return nil
}

// flush places every event left and sends the last batch.
func (t *timeline) flush() error {
	for len(t.pending) > 0 {
		if err := t.emit(); err != nil {
			return err
		}
	}
	if len(t.batch) > 0 {
		return t.send(t.batch)
	}
	return nil
}

// emit places the earliest pending event. It is recorded a moment after
// it occurred, as an append records it, and never before the event
// placed before it: recorded_at rises with the feed.
func (t *timeline) emit() error {
	o := t.pending[0]
	r := o.rows[o.next]
	o.next++
	if o.next == len(o.rows) {
		heap.Pop(&t.pending)
	} else {
		heap.Fix(&t.pending, 0)
	}
	r.recorded = r.occurred.Add(200*time.Microsecond + t.rng.N(3*time.Millisecond)).Truncate(time.Microsecond)
	if r.recorded.Before(t.recorded) {
		r.recorded = t.recorded
	}
	t.recorded = r.recorded
	t.batch = append(t.batch, r)
	if len(t.batch) < t.size {
		return nil
	}
	err := t.send(t.batch)
	t.batch = make([]eventRow, 0, t.size)
	return err
}

// pendingOrder is an order whose events are not all placed yet.
type pendingOrder struct {
	rows  []eventRow
	next  int
	index int
}

func (o *pendingOrder) at() time.Time { return o.rows[o.next].occurred }

// pendingOrders is a heap by the next event's time, then by arrival.
type pendingOrders []*pendingOrder

func (h pendingOrders) Len() int { return len(h) }
func (h pendingOrders) Less(i, j int) bool {
	a, b := h[i].at(), h[j].at()
	if a.Equal(b) {
		return h[i].index < h[j].index
	}
	return a.Before(b)
}
func (h pendingOrders) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *pendingOrders) Push(x any)   { *h = append(*h, x.(*pendingOrder)) }
func (h *pendingOrders) Pop() any {
	old := *h
	o := old[len(old)-1]
	*h = old[:len(old)-1]
	return o
}
