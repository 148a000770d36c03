package eventstore_test

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"math/rand/v2"
	"reflect"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/orderapi/orderapi/internal/adapters/postgres/eventstore"
	"github.com/orderapi/orderapi/internal/adapters/postgres/pgtest"
	"github.com/orderapi/orderapi/internal/domain/order"
)

var snapshotSeed = flag.Uint64("snapshot-seed", 0, "seed of TestSnapshotsNeverChangeALoad; 0 picks one")

// TestSnapshotsNeverChangeALoad is the snapshots' property: for random
// command sequences, with snapshots taken at random versions (in random
// order, so older after newer too), Load, and every read of a past state
// by version or as of a time, answers exactly the state that a full
// replay answers and that the commands built; and deleting every snapshot
// changes no answer.
func TestSnapshotsNeverChangeALoad(t *testing.T) {
	t.Parallel()
	seed := *snapshotSeed
	if seed == 0 {
		seed = rand.Uint64()
	}
	t.Logf("seed %d (rerun with -snapshot-seed=%d)", seed, seed)
	r := rand.New(rand.NewPCG(seed, 0))
	ctx := t.Context()

	// Given a store that reads snapshots (no writer runs: only the test
	// writes them) and one that replays every stream whole
	pool := pgtest.New(t)
	snapped := eventstore.New(pool, eventstore.Config{SnapshotEvery: 1})
	plain := eventstore.New(pool, eventstore.Config{})

	const sequences = 200
	finals := make([]order.Order, 0, sequences)
	histories := make([][]order.Order, 0, sequences)
	snapshotted := 0
	for i := range sequences {
		// Given a stream built by random commands
		history := streamHistory(t, r, plain, t0.Add(time.Duration(i)*time.Hour))
		last := history[len(history)-1]
		finals = append(finals, last)
		histories = append(histories, history)

		// and snapshots at random versions, of states replayed up to them
		n := r.IntN(4)
		if n > 0 {
			snapshotted++
		}
		for range n {
			v := 1 + r.IntN(last.Version)
			at, err := plain.LoadVersion(ctx, last.ID, v)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(at, history[v]) {
				t.Fatalf("sequence %d: replay to version %d:\n%+v\nwant\n%+v", i, v, at, history[v])
			}
			if _, err := snapped.SaveSnapshot(ctx, at); err != nil {
				t.Fatal(err)
			}
		}

		// When it is loaded from its snapshot and the events after it
		got, err := snapped.Load(ctx, last.ID)
		if err != nil {
			t.Fatalf("sequence %d: %v", i, err)
		}
		// Then it is the state of a full replay, and of the commands
		replayed, err := plain.Load(ctx, last.ID)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, replayed) || !reflect.DeepEqual(got, last) {
			t.Fatalf("sequence %d: loaded\n%+v\nreplayed\n%+v\nbuilt\n%+v", i, got, replayed, last)
		}
	}
	if st := snapped.SnapshotStats(); st.Hits != uint64(snapshotted) || st.Misses != uint64(sequences-snapshotted) || st.Failed != 0 {
		t.Fatalf("stats %+v, want %d hits and %d misses", st, snapshotted, sequences-snapshotted)
	}

	// When each is read at random versions, and as of the times they
	// occurred and just before, then each answer is the state the
	// commands built there, as a full replay answers it
	for i, history := range histories {
		for _, at := range pastPoints(r, history) {
			for name, s := range map[string]*eventstore.Store{"snapshots": snapped, "replay": plain} {
				got, err := at.load(ctx, s, history[1].ID)
				if at.want == 0 {
					if !errors.Is(err, order.ErrNotFound) {
						t.Fatalf("sequence %d, %s %s: %+v, %v; want not found", i, name, at, got, err)
					}
					continue
				}
				if err != nil || !reflect.DeepEqual(got, history[at.want]) {
					t.Fatalf("sequence %d, %s %s: %v\n%+v\nwant version %d\n%+v", i, name, at, err, got, at.want, history[at.want])
				}
			}
		}
	}
	// and no read took a snapshot it then found past its bound
	if st := snapped.SnapshotStats(); st.Failed != 0 {
		t.Fatalf("stats %+v", st)
	}

	// When every snapshot is deleted, then every load answers the same
	if _, err := pool.Exec(ctx, `DELETE FROM snapshots`); err != nil {
		t.Fatal(err)
	}
	for _, want := range finals {
		got, err := snapped.Load(ctx, want.ID)
		if err != nil || !reflect.DeepEqual(got, want) {
			t.Fatalf("without snapshots: %+v, %v; want %+v", got, err, want)
		}
	}
}

// streamHistory appends an order's stream, made of random commands in
// commits of one to four, and returns its state at every version
// (history[v]; history[0] is the empty state).
func streamHistory(t *testing.T, r *rand.Rand, s *eventstore.Store, at time.Time) []order.Order {
	t.Helper()
	currencies := []order.Currency{"USD", "JPY", "KWD", "EUR"}
	events, err := order.Create(uuid.New(), uuid.New(), currencies[r.IntN(len(currencies))])
	if err != nil {
		t.Fatal(err)
	}
	history := []order.Order{{}}
	o := mustAppend(t, s, commitOf(t, order.Order{ID: events[0].(order.Created).OrderID}, at, events...))
	history = append(history, o)

	// Mostly short streams, some long: draft orders grow by adding and
	// removing lines of a few products.
	commands := r.IntN(20)
	if r.IntN(10) < 3 {
		commands = r.IntN(150)
	}
	products := []uuid.UUID{uuid.New(), uuid.New(), uuid.New(), uuid.New()}
	for commands > 0 && !terminal(o.Status) {
		at = at.Add(time.Duration(1+r.IntN(1_000_000)) * time.Microsecond)
		start, next := o, o
		var commit []order.Event
		for k := 1 + r.IntN(4); k > 0 && commands > 0 && !terminal(next.Status); k-- {
			commands--
			evs, err := nextCommand(r, &next, products, at)
			if err != nil {
				continue // refused by a rule: the sequence goes on
			}
			for _, e := range evs {
				next.Apply(e, at)
				history = append(history, next)
			}
			commit = append(commit, evs...)
		}
		if len(commit) > 0 {
			o = mustAppend(t, s, commitOf(t, start, at, commit...))
		}
	}
	return history
}

func terminal(s order.Status) bool {
	return s == order.StatusDelivered || s == order.StatusCancelled
}

// nextCommand runs a command the order's status allows, with random
// input: prices of every scale, optional address lines and signatures,
// delivery times with nanoseconds.
func nextCommand(r *rand.Rand, o *order.Order, products []uuid.UUID, at time.Time) ([]order.Event, error) {
	pick := func(s ...string) string { return s[r.IntN(len(s))] }
	switch o.Status {
	case order.StatusDraft:
		switch n := r.IntN(20); {
		case n < 11:
			return o.AddItem(order.NewItem{
				ProductID:   products[r.IntN(len(products))],
				ProductName: pick("Espresso cup", "Mug", "Teapot", "Saucer"),
				Quantity:    int64(1 + r.IntN(5)),
				UnitPrice:   price(pick("0", "0.5", "4.50", "19.99", "0.0125", "1000", "12.3400")),
			})
		case n < 17:
			return o.RemoveItem(products[r.IntN(len(products))])
		case n < 19:
			addr := address
			if r.IntN(2) == 0 {
				addr.Line2, addr.Region = "Flat "+fmt.Sprint(r.IntN(100)), "Islington"
			}
			return o.Place(addr)
		default:
			return o.Cancel(pick("changed my mind", "duplicate"), pick("customer", "support"))
		}
	case order.StatusPlaced:
		if r.IntN(4) == 0 {
			return o.Cancel("out of stock", "support")
		}
		return o.Ship(fmt.Sprintf("1Z%09d", r.IntN(1e9)), pick("UPS", "DHL"))
	default: // shipped
		return o.Deliver(at.Add(time.Duration(r.IntN(1e9))), at.Add(time.Second), pick("", "A. Lovelace"))
	}
}

// pastPoint is a read of a past state: at a version, or as of a time,
// with the version of the state expected (0: none yet).
type pastPoint struct {
	version int
	asOf    time.Time
	want    int
}

func (p pastPoint) String() string {
	if p.version > 0 {
		return fmt.Sprintf("at version %d", p.version)
	}
	return "as of " + p.asOf.Format(time.RFC3339Nano)
}

func (p pastPoint) load(ctx context.Context, s *eventstore.Store, id uuid.UUID) (order.Order, error) {
	if p.version > 0 {
		return s.LoadVersion(ctx, id, p.version)
	}
	return s.LoadAsOf(ctx, id, p.asOf)
}

// pastPoints picks reads of a stream's past: its last version and up to
// five random ones, and as of the time each of those occurred, a
// microsecond before, and before the order. As of a time, the state
// expected is the one after the longest run of first events that occurred
// by then (each state's UpdatedAt is its last event's time).
func pastPoints(r *rand.Rand, history []order.Order) []pastPoint {
	last := len(history) - 1
	versions := []int{last}
	for range min(5, last) {
		versions = append(versions, 1+r.IntN(last))
	}
	asOf := func(t time.Time) pastPoint {
		p := pastPoint{asOf: t}
		for p.want < last && !history[p.want+1].UpdatedAt.After(t) {
			p.want++
		}
		return p
	}
	points := []pastPoint{asOf(history[1].UpdatedAt.Add(-time.Hour))}
	for _, v := range versions {
		at := history[v].UpdatedAt
		points = append(points, pastPoint{version: v, want: v}, asOf(at), asOf(at.Add(-time.Microsecond)))
	}
	return points
}
