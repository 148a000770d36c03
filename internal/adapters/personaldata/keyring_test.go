package personaldata

import (
	"context"
	"crypto/rand"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
)

// memoryStore is a KeyStore in memory that counts the questions it is
// asked about keys, and holds them until let go while held is set.
type memoryStore struct {
	mu    sync.Mutex
	keys  map[uuid.UUID]StoredKey
	asked atomic.Int64
	// held, when not nil, is closed to let the questions held go.
	held chan struct{}
}

func newMemoryStore() *memoryStore { return &memoryStore{keys: map[uuid.UUID]StoredKey{}} }

func (s *memoryStore) LiveKey(_ context.Context, customerID uuid.UUID, candidate *StoredKey) (StoredKey, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, k := range s.keys {
		if k.CustomerID == customerID && !k.Destroyed() {
			return k, true, nil
		}
	}
	if candidate == nil {
		return StoredKey{}, false, nil
	}
	s.keys[candidate.ID] = *candidate
	return *candidate, true, nil
}

func (s *memoryStore) Key(_ context.Context, id uuid.UUID) (StoredKey, bool, error) {
	s.asked.Add(1)
	s.mu.Lock()
	held := s.held
	s.mu.Unlock()
	if held != nil {
		<-held
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	k, ok := s.keys[id]
	return k, ok, nil
}

// destroy destroys the customer's keys, telling no keyring.
func (s *memoryStore) destroy(customerID uuid.UUID) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for id, k := range s.keys {
		if k.CustomerID == customerID {
			k.Wrapped, k.MasterKeyID = nil, ""
			s.keys[id] = k
		}
	}
}

// keyringHolding returns a keyring that trusts a key for trust, over a
// store in memory, and holding a new customer's key.
func keyringHolding(t *testing.T, trust time.Duration) (*Keyring, *memoryStore, *DataKey) {
	t.Helper()
	r, store := newKeyring(t, trust)
	key, err := r.ForSealing(t.Context(), uuid.New())
	if err != nil {
		t.Fatal(err)
	}
	return r, store, key
}

func TestAKeyIsAskedAboutOnceATrustHowEverManyUseIt(t *testing.T) {
	t.Parallel()
	// Given a keyring that trusts a key for 200ms, holding a customer's
	const trust = 200 * time.Millisecond
	r, store, key := keyringHolding(t, trust)

	// When it is used a hundred times within its trust
	for range 100 {
		if k, err := r.Key(t.Context(), key.ID); err != nil || k != key {
			t.Fatalf("key within its trust: %v, %v", k, err)
		}
	}
	// Then the store is not asked
	if n := store.asked.Load(); n != 0 {
		t.Errorf("asked %d times within the trust, want none", n)
	}

	// When its trust has passed and fifty callers want it at once, while
	// the store takes its time to answer
	time.Sleep(trust)
	held := make(chan struct{})
	store.mu.Lock()
	store.held = held
	store.mu.Unlock()
	var wg sync.WaitGroup
	got := make([]*DataKey, 50)
	errs := make([]error, 50)
	for i := range got {
		wg.Go(func() { got[i], errs[i] = r.Key(t.Context(), key.ID) })
	}
	time.Sleep(100 * time.Millisecond)
	close(held)
	wg.Wait()

	// Then the store was asked once, and everyone has the key, trusted anew
	if n := store.asked.Load(); n != 1 {
		t.Errorf("asked %d times for fifty callers, want once", n)
	}
	for i := range got {
		if got[i] != key || errs[i] != nil {
			t.Fatalf("caller %d: %v, %v", i, got[i], errs[i])
		}
	}
	if k, err := r.ForSealing(t.Context(), key.CustomerID); k != key || err != nil || store.asked.Load() != 1 {
		t.Errorf("for sealing after the answer: %v, %v, asked %d times", k, err, store.asked.Load())
	}
}

func TestAKeyDestroyedUnheardIsOutOfUseWithinItsTrust(t *testing.T) {
	t.Parallel()
	for name, tc := range map[string]struct {
		use func(r *Keyring, key *DataKey) (*DataKey, error)
		// after checks what the use gives once the key is out of use.
		after func(k *DataKey, err error) bool
	}{
		"opening": {
			use:   func(r *Keyring, key *DataKey) (*DataKey, error) { return r.Key(context.Background(), key.ID) },
			after: func(k *DataKey, err error) bool { return k == nil && errors.Is(err, ErrErased) },
		},
		"sealing": {
			use: func(r *Keyring, key *DataKey) (*DataKey, error) {
				return r.ForSealing(context.Background(), key.CustomerID)
			},
			after: func(k *DataKey, err error) bool { return k != nil && err == nil },
		},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			// Given a keyring that trusts a key for 200ms, holding a
			// customer's
			const trust = 200 * time.Millisecond
			r, store, key := keyringHolding(t, trust)

			// When the key is destroyed and nobody tells the keyring
			destroyed := time.Now()
			store.destroy(key.CustomerID)

			// Then once its trust has passed it is never used again:
			// opening finds it erased, sealing gets the customer a new key
			for {
				asked := time.Now()
				k, err := tc.use(r, key)
				if k != key {
					if !tc.after(k, err) {
						t.Fatalf("after the destruction: %v, %v", k, err)
					}
					break
				}
				if late := asked.Sub(destroyed); late > trust {
					t.Fatalf("the destroyed key was used %s after its destruction, past its trust of %s", late, trust)
				}
				time.Sleep(5 * time.Millisecond)
			}
			if _, err := r.Key(t.Context(), key.ID); !errors.Is(err, ErrErased) {
				t.Errorf("the destroyed key afterwards: %v", err)
			}
		})
	}
}

// newKeyring returns a keyring that trusts a key for trust, over a store
// in memory.
func newKeyring(t *testing.T, trust time.Duration) (*Keyring, *memoryStore) {
	t.Helper()
	raw := make([]byte, MasterKeySize)
	rand.Read(raw)
	m, err := NewFileMasterKey(raw)
	if err != nil {
		t.Fatal(err)
	}
	store := newMemoryStore()
	return NewKeyringTrusting(store, NewMasterKeys(m), trust), store
}

func TestACandidateIsHeldOnlyOnceStored(t *testing.T) {
	t.Parallel()
	// Given a keyring, and a new customer
	r, store := newKeyring(t, DefaultKeyTrust)
	customer := uuid.New()

	// When it hands out a candidate for the customer
	k, c, err := r.ForSealingFirst(t.Context(), customer)
	if err != nil || c == nil || k == nil || c.Stored.ID != k.ID || c.Stored.CustomerID != customer {
		t.Fatalf("first: %v, %+v, %v; want a candidate of the customer", k, c, err)
	}

	// Then it stored nothing, and holds nothing until told it is stored:
	// the next caller gets another candidate
	if len(store.keys) != 0 {
		t.Errorf("stored %d keys, want none", len(store.keys))
	}
	if k2, c2, err := r.ForSealingFirst(t.Context(), customer); err != nil || c2 == nil || k2.ID == k.ID {
		t.Fatalf("second: %v, %v; want another candidate", c2, err)
	}
	// And once it is stored, it is the customer's key, unwrapped from the
	// candidate, with no question to the store
	store.keys[c.Stored.ID] = c.Stored
	r.Stored(c)
	if held, c3, err := r.ForSealingFirst(t.Context(), customer); err != nil || c3 != nil || held != k {
		t.Errorf("after it is stored: %v, candidate %v, %v; want the key", held, c3 != nil, err)
	}
	if opened, err := r.Key(t.Context(), k.ID); err != nil || opened != k || store.asked.Load() != 0 {
		t.Errorf("opening: %v, %v, asked %d times", opened, err, store.asked.Load())
	}
}

func TestAForgettingBetweenACandidatesHandingOutAndItsStoringWins(t *testing.T) {
	t.Parallel()
	for name, forget := range map[string]func(r *Keyring, customer uuid.UUID){
		"the customer": func(r *Keyring, customer uuid.UUID) { r.Forget(customer) },
		"everything":   func(r *Keyring, _ uuid.UUID) { r.ForgetAll() },
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			// Given a candidate handed out for a new customer
			r, store := newKeyring(t, DefaultKeyTrust)
			customer := uuid.New()
			_, c, err := r.ForSealingFirst(t.Context(), customer)
			if err != nil || c == nil {
				t.Fatal(c, err)
			}

			// When the keyring forgets before the candidate is stored
			// (an erasure heard while the append ran), then is told it is
			forget(r, customer)
			store.keys[c.Stored.ID] = c.Stored
			r.Stored(c)

			// Then it does not hold it: the next use asks the store
			if _, c2, err := r.ForSealingFirst(t.Context(), customer); err != nil || c2 == nil {
				t.Errorf("after: candidate %v, %v; want the stored one not held", c2 != nil, err)
			}
			if _, err := r.Key(t.Context(), c.Stored.ID); err != nil || store.asked.Load() != 1 {
				t.Errorf("opening: %v, asked %d times; want it read from the store", err, store.asked.Load())
			}
		})
	}
}
