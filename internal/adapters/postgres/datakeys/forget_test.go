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

func TestAReplicaWhoseListenerStallsForgetsItsKeysWithinTheHeartbeat(t *testing.T) {
	t.Parallel()
	// Given a replica whose keyring holds a customer's key, trusted far
	// longer than the test, and whose listener's connection passes through
	// a network that may stall; the listener asks its session after 100ms
	// without a notification and waits 200ms for the answer
	pool, master := pgtest.New(t), masterKey(t)
	through, stall := pgtest.Stalling(t, pool)
	replica := personaldata.NewKeyringTrusting(datakeys.New(pool), personaldata.NewMasterKeys(master), time.Hour)
	customer := uuid.New()
	key, err := replica.ForSealing(t.Context(), customer)
	if err != nil {
		t.Fatal(err)
	}
	const every, wait = 100 * time.Millisecond, 200 * time.Millisecond
	l := notify.NewListener(through, zerolog.New(zerolog.NewTestWriter(t)))
	l.SetHeartbeat(every, wait)
	l.Handle(datakeys.ErasedChannel, datakeys.Forgetter{Keyring: replica})
	ctx, stop := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- l.Run(ctx) }()
	t.Cleanup(func() { stop(); <-done })
	select {
	case <-l.Listened():
	case <-time.After(10 * time.Second):
		t.Fatal("the listener never listened")
	}
	if _, err := replica.ForSealing(t.Context(), customer); err != nil {
		t.Fatal(err)
	}

	// When the listener's connection stalls, open but silent, and another
	// replica erases the customer, whose notification never arrives
	stall.Stop()
	erased := time.Now()
	erase(t, pool, customer)

	// Then within the heartbeat and its wait the replica reads the key as
	// erased, and is not ready
	for {
		asked := time.Now()
		_, err := replica.Key(t.Context(), key.ID)
		if errors.Is(err, personaldata.ErrErased) {
			break
		}
		if late := asked.Sub(erased); late > every+wait+time.Second {
			t.Fatalf("the erased customer's key still opens %s after the erasure (%v)", late, err)
		}
		time.Sleep(5 * time.Millisecond)
	}
	if err := l.Ready(t.Context()); err == nil {
		t.Error("ready while its listener's connection is stalled")
	}
	// And it stays not ready while the stall lasts, as it cannot listen
	time.Sleep(5 * every)
	if err := l.Ready(t.Context()); err == nil {
		t.Error("ready while its listener's connection is still stalled")
	}

	// When the network flows again
	stall.Resume()
	// Then it is ready again, the key still erased
	for deadline := time.Now().Add(10 * time.Second); l.Ready(t.Context()) != nil; time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("not ready after the stall ended")
		}
	}
	if _, err := replica.Key(t.Context(), key.ID); !errors.Is(err, personaldata.ErrErased) {
		t.Errorf("the erased customer's key after the stall: %v", err)
	}
}

func TestAKeyCachedBeforeItsDestructionIsOutOfUseWithinItsTrustUnheard(t *testing.T) {
	t.Parallel()
	// Given two replicas that trust a key for 300ms and hear of no
	// erasure at all (no listener): one holds a customer's key for
	// sealing, the other for opening
	const trust = 300 * time.Millisecond
	pool, master := pgtest.New(t), masterKey(t)
	writer := personaldata.NewKeyringTrusting(datakeys.New(pool), personaldata.NewMasterKeys(master), trust)
	reader := personaldata.NewKeyringTrusting(datakeys.New(pool), personaldata.NewMasterKeys(master), trust)
	customer := uuid.New()
	key, err := writer.ForSealing(t.Context(), customer)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := reader.Key(t.Context(), key.ID); err != nil {
		t.Fatal(err)
	}

	// When the customer is erased, neither told
	erased := time.Now()
	erase(t, pool, customer)

	// Then within the trust neither uses the key again: the reader reads
	// it as erased, the writer seals with a new key
	for name, outOfUse := range map[string]func() (bool, error){
		"reader": func() (bool, error) {
			_, err := reader.Key(t.Context(), key.ID)
			if errors.Is(err, personaldata.ErrErased) {
				return true, nil
			}
			return false, err
		},
		"writer": func() (bool, error) {
			k, err := writer.ForSealing(t.Context(), customer)
			return err == nil && k.ID != key.ID, err
		},
	} {
		for {
			asked := time.Now()
			done, err := outOfUse()
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			if done {
				break
			}
			if late := asked.Sub(erased); late > trust {
				t.Fatalf("%s used the destroyed key %s after the erasure, past its trust of %s", name, late, trust)
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
	if _, err := writer.Key(t.Context(), key.ID); !errors.Is(err, personaldata.ErrErased) {
		t.Errorf("the writer opens with the destroyed key: %v", err)
	}
}
