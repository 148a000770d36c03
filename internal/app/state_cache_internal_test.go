package app

import (
	"encoding/binary"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/orderapi/orderapi/internal/domain/order"
)

// onStripe returns an id whose lock stripe is stripe, with n telling ids
// apart.
func onStripe(stripe, n int) uuid.UUID {
	id := uuid.New()
	binary.BigEndian.PutUint16(id[14:], uint16(stripe+n*lockStripes))
	binary.BigEndian.PutUint16(id[0:], uint16(n))
	return id
}

func TestStateCacheKeepsTheNewestPerStripe(t *testing.T) {
	// Given a cache of two entries per stripe
	c := newStateCache(2*lockStripes, time.Hour)
	a, b, d := onStripe(7, 0), onStripe(7, 1), onStripe(7, 2)
	for _, id := range []uuid.UUID{a, b, d} {
		c.put(order.Order{ID: id, Version: 1}, time.Now())
	}
	// Then the oldest of three orders on one stripe is gone
	if _, ok := c.get(a); ok {
		t.Error("the oldest entry of a full stripe was kept")
	}
	for _, id := range []uuid.UUID{b, d} {
		if _, ok := c.get(id); !ok {
			t.Errorf("entry %s lost", id)
		}
	}
	// and a dropped order is gone
	c.drop(b)
	if _, ok := c.get(b); ok {
		t.Error("a dropped entry was returned")
	}
}

func TestStateCacheSharesNothingWithItsCallers(t *testing.T) {
	// Given a cached state with room to grow its items in place
	c := newStateCache(lockStripes, time.Hour)
	id := uuid.New()
	items := make([]order.Item, 1, 4)
	items[0].ProductName = "Mug"
	c.put(order.Order{ID: id, Version: 2, Items: items}, time.Now())

	// When a caller changes its copy, and the original
	got, _ := c.get(id)
	got.Items = append(got.Items, order.Item{ProductName: "Tea"})
	got.Items[0].ProductName = "Cup"
	items[0].ProductName = "Pot"

	// Then the cache still holds what was put
	again, _ := c.get(id)
	if len(again.Items) != 1 || again.Items[0].ProductName != "Mug" {
		t.Errorf("cached items became %+v", again.Items)
	}
}

func TestNoStateCache(t *testing.T) {
	var c *stateCache = newStateCache(0, time.Hour)
	c.put(order.Order{ID: uuid.New(), Version: 1}, time.Now())
	if _, ok := c.get(uuid.New()); ok {
		t.Error("an absent cache returned a state")
	}
}

func TestAKeptStateIsUsedForItsMaxAgeAfterItsLoadAtMost(t *testing.T) {
	// Given a cache whose states are used for 200ms after their load, and
	// a state loaded now
	const maxAge = 200 * time.Millisecond
	c := newStateCache(lockStripes, maxAge)
	id := uuid.New()
	loaded := time.Now()
	c.put(order.Order{ID: id, Version: 1}, loaded)

	// When commands keep growing it from that load, for longer than that
	for v := 2; time.Since(loaded) < maxAge; v++ {
		k, ok := c.get(id)
		if !ok {
			if time.Since(loaded) < maxAge/2 {
				t.Fatalf("the state was dropped %s after its load", time.Since(loaded))
			}
			break
		}
		if !k.loaded.Equal(loaded) {
			t.Fatalf("the state grew from a load at %v, want %v", k.loaded, loaded)
		}
		k.Version = v
		c.put(k.Order, k.loaded)
		time.Sleep(10 * time.Millisecond)
	}
	time.Sleep(10 * time.Millisecond)

	// Then once its age has passed it is not used, however busy its order
	if k, ok := c.get(id); ok {
		t.Errorf("a state loaded %s ago was used (version %d)", time.Since(loaded), k.Version)
	}
}
