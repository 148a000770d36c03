package datakeys_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/orderapi/orderapi/internal/adapters/personaldata"
	"github.com/orderapi/orderapi/internal/adapters/postgres/datakeys"
	"github.com/orderapi/orderapi/internal/adapters/postgres/notify"
	"github.com/orderapi/orderapi/internal/adapters/postgres/pgtest"
	"github.com/rs/zerolog"
)

func TestEveryReplicaForgetsAnErasedCustomersKeysWhenTold(t *testing.T) {
	t.Parallel()
	// Given a replica whose keyring holds two customers' keys, and whose
	// listener hands it the erasures
	pool, master := pgtest.New(t), masterKey(t)
	replica := keyring(pool, master)
	customer, bystander := uuid.New(), uuid.New()
	key, err := replica.ForSealing(t.Context(), customer)
	if err != nil {
		t.Fatal(err)
	}
	other, err := replica.ForSealing(t.Context(), bystander)
	if err != nil {
		t.Fatal(err)
	}
	l := notify.NewListener(pool, zerolog.New(zerolog.NewTestWriter(t)))
	l.Handle(datakeys.ErasedChannel, datakeys.Forgetter{Keyring: replica})
	wake, cancel := l.Subscribe()
	defer cancel()
	ctx, stop := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- l.Run(ctx) }()
	t.Cleanup(func() { stop(); <-done })
	select {
	case <-wake:
	case <-time.After(10 * time.Second):
		t.Fatal("the listener never listened")
	}

	// When another replica erases the customer (and tells only its own
	// keyring)
	erase(t, pool, customer)

	// Then this replica soon reads the customer's key as erased
	deadline := time.Now().Add(10 * time.Second)
	for {
		_, err := replica.Key(t.Context(), key.ID)
		if errors.Is(err, personaldata.ErrErased) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the customer's key still opens: %v", err)
		}
		time.Sleep(10 * time.Millisecond)
	}
	// And it still holds the other customer's
	if k, err := replica.Key(t.Context(), other.ID); err != nil || k.ID != other.ID {
		t.Errorf("bystander: %+v, %v", k, err)
	}
}

func TestForgetterForgetsEverythingWhenItMayHaveMissedAnErasure(t *testing.T) {
	t.Parallel()
	// Given a replica's keyring holding a customer's key
	pool, master := pgtest.New(t), masterKey(t)
	replica := keyring(pool, master)
	customer := uuid.New()
	key, err := replica.ForSealing(t.Context(), customer)
	if err != nil {
		t.Fatal(err)
	}
	f := datakeys.Forgetter{Keyring: replica}
	for name, tell := range map[string]func(){
		"listening again":          f.Listening,
		"a payload of no customer": func() { f.Notified("not a customer id") },
	} {
		// When the key is destroyed unheard, and then the replica is told
		// only that it may have missed something
		erase(t, pool, customer)
		tell()

		// Then it reads the key as erased
		if _, err := replica.Key(t.Context(), key.ID); !errors.Is(err, personaldata.ErrErased) {
			t.Errorf("%s: %v", name, err)
		}
		if key, err = replica.ForSealing(t.Context(), customer); err != nil {
			t.Fatal(err)
		}
	}
}

func TestWrappedByCountsLiveKeysByMasterKey(t *testing.T) {
	t.Parallel()
	// Given two keys wrapped by one master key, one by another, and a
	// destroyed one
	pool, a, b := pgtest.New(t), masterKey(t), masterKey(t)
	for _, m := range []personaldata.MasterKey{a, a, b, b} {
		if _, err := keyring(pool, m).ForSealing(t.Context(), uuid.New()); err != nil {
			t.Fatal(err)
		}
	}
	destroyed := uuid.New()
	if _, err := keyring(pool, b).ForSealing(t.Context(), destroyed); err != nil {
		t.Fatal(err)
	}
	erase(t, pool, destroyed)

	// When they are counted
	got, err := datakeys.New(pool).WrappedBy(t.Context())

	// Then each master key counts its live keys
	if err != nil || len(got) != 2 || got[a.ID()] != 2 || got[b.ID()] != 2 {
		t.Errorf("got %v, %v", got, err)
	}
}
