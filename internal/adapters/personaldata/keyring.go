package personaldata

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"sync"

	"github.com/google/uuid"
)

// StoredKey is a data key as its store keeps it: wrapped by the master key
// MasterKeyID names, or destroyed (Wrapped nil) when its customer's
// personal data was erased.
type StoredKey struct {
	ID          uuid.UUID
	CustomerID  uuid.UUID
	Wrapped     []byte
	MasterKeyID string
}

// Destroyed reports whether the key is gone for good.
func (k StoredKey) Destroyed() bool { return k.Wrapped == nil }

// KeyStore keeps the wrapped data keys (the customer_data_keys table).
type KeyStore interface {
	// LiveKey returns the customer's key that is not destroyed, storing
	// candidate as it first when there is none. ok is false when the
	// customer has none and candidate is nil.
	LiveKey(ctx context.Context, customerID uuid.UUID, candidate *StoredKey) (_ StoredKey, ok bool, err error)
	// Key returns the key of that id; ok is false if there is none.
	Key(ctx context.Context, id uuid.UUID) (_ StoredKey, ok bool, err error)
}

// ErrMasterKey is the error of a data key that the master keys this
// service was given do not unwrap: a configuration fault, never a fault of
// the data the key sealed.
var ErrMasterKey = errors.New("master key")

// ErrErased is the error of Keyring.Key for a key that was destroyed: its
// customer's personal data was erased.
var ErrErased = errors.New("personal data erased")

// ErrUnknownKey is the error of Keyring.Key for an id that no key was
// ever stored under. It is ErrErased too (errors.Is), for a reader that
// takes a sealed value whose key is gone for erased; a reader that may
// hold text written in clear before sealing began tells by it that the
// text only looks sealed: keys are destroyed, never deleted, so whatever
// was sealed names a key that is stored.
var ErrUnknownKey = fmt.Errorf("%w: no data key of this id was ever stored", ErrErased)

// unknownKey stands in the cache for an id no key was stored under.
var unknownKey = new(DataKey)

// maxCachedKeys bounds a Keyring's cache. A key costs about a kilobyte
// unwrapped (AES's key schedule and GCM's tables); a cache that is full is
// emptied and refilled by the reads that follow.
const maxCachedKeys = 100_000

// Keyring unwraps data keys and keeps them, so that a read or a command
// costs no round trip to the key store or the master key after the first.
// A key that was destroyed is remembered as such; a key that is live is
// dropped when its customer is forgotten (Forget, on erasure, in every
// replica) or the cache is cleared (ForgetAll).
type Keyring struct {
	store   KeyStore
	masters *MasterKeys

	mu sync.RWMutex
	// byID holds unwrapped keys, nil for the destroyed ones, and
	// unknownKey for ids no key was ever stored under.
	byID map[uuid.UUID]*DataKey
	// live is each customer's live key, for sealing.
	live map[uuid.UUID]*DataKey
	// epoch counts forgettings: a key read from the store while one
	// happened may be stale, so it is not cached.
	epoch uint64
}

// NewKeyring returns an empty Keyring over the store and master keys.
func NewKeyring(store KeyStore, masters *MasterKeys) *Keyring {
	return &Keyring{store: store, masters: masters, byID: map[uuid.UUID]*DataKey{}, live: map[uuid.UUID]*DataKey{}}
}

// ForSealing returns the customer's live key, making and storing one when
// the customer has none (a new customer, or one whose data was erased:
// personal data recorded after an erasure gets a new key).
func (r *Keyring) ForSealing(ctx context.Context, customerID uuid.UUID) (*DataKey, error) {
	r.mu.RLock()
	k, epoch := r.live[customerID], r.epoch
	r.mu.RUnlock()
	if k != nil {
		return k, nil
	}
	candidate, err := r.newKey(ctx, customerID)
	if err != nil {
		return nil, err
	}
	stored, _, err := r.store.LiveKey(ctx, customerID, &candidate)
	if err != nil {
		return nil, fmt.Errorf("data key of customer %s: %w", customerID, err)
	}
	if k, err = r.unwrap(ctx, stored); err != nil {
		return nil, err
	}
	r.remember(stored.ID, customerID, k, true, epoch)
	return k, nil
}

// Key returns the key of that id for opening; ErrErased if it was
// destroyed, ErrUnknownKey (which is ErrErased too) if no key of that id
// was ever stored.
func (r *Keyring) Key(ctx context.Context, id uuid.UUID) (*DataKey, error) {
	r.mu.RLock()
	k, known := r.byID[id]
	epoch := r.epoch
	r.mu.RUnlock()
	if known {
		switch k {
		case nil:
			return nil, ErrErased
		case unknownKey:
			return nil, ErrUnknownKey
		}
		return k, nil
	}
	stored, ok, err := r.store.Key(ctx, id)
	if err != nil {
		return nil, fmt.Errorf("data key %s: %w", id, err)
	}
	if !ok {
		r.remember(id, uuid.Nil, unknownKey, false, epoch)
		return nil, ErrUnknownKey
	}
	if stored.Destroyed() {
		r.remember(id, stored.CustomerID, nil, false, epoch)
		return nil, ErrErased
	}
	if k, err = r.unwrap(ctx, stored); err != nil {
		return nil, err
	}
	r.remember(id, stored.CustomerID, k, false, epoch)
	return k, nil
}

// Forget drops the customer's keys from the cache: they were destroyed,
// and the next use reads that from the store.
func (r *Keyring) Forget(customerID uuid.UUID) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.epoch++
	delete(r.live, customerID)
	for id, k := range r.byID {
		if k != nil && k.CustomerID == customerID {
			delete(r.byID, id)
		}
	}
}

// ForgetAll empties the cache: for when erasures may have gone unheard
// (the notification connection was lost).
func (r *Keyring) ForgetAll() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.epoch++
	clear(r.live)
	clear(r.byID)
}

// remember caches k (nil: destroyed) unless a forgetting happened since
// epoch was read.
func (r *Keyring) remember(id, customerID uuid.UUID, k *DataKey, live bool, epoch uint64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.epoch != epoch {
		return
	}
	if len(r.byID) >= maxCachedKeys || len(r.live) >= maxCachedKeys {
		clear(r.byID)
		clear(r.live)
	}
	r.byID[id] = k
	if live {
		r.live[customerID] = k
	}
}

// newKey makes a data key for the customer, wrapped by the current master
// key.
func (r *Keyring) newKey(ctx context.Context, customerID uuid.UUID) (StoredKey, error) {
	plain := make([]byte, DataKeySize)
	if _, err := rand.Read(plain); err != nil {
		return StoredKey{}, err
	}
	id, err := uuid.NewV7()
	if err != nil {
		return StoredKey{}, err
	}
	master := r.masters.Current()
	wrapped, err := master.Wrap(ctx, plain, wrapAAD(id, customerID))
	if err != nil {
		return StoredKey{}, fmt.Errorf("wrap a data key with master key %s: %w", master.ID(), err)
	}
	return StoredKey{ID: id, CustomerID: customerID, Wrapped: wrapped, MasterKeyID: master.ID()}, nil
}

// unwrap opens a stored key with the master key that wrapped it.
func (r *Keyring) unwrap(ctx context.Context, s StoredKey) (*DataKey, error) {
	plain, err := r.unwrapBytes(ctx, s)
	if err != nil {
		return nil, err
	}
	return newDataKey(s.ID, s.CustomerID, plain)
}

func (r *Keyring) unwrapBytes(ctx context.Context, s StoredKey) ([]byte, error) {
	master, ok := r.masters.ByID(s.MasterKeyID)
	if !ok {
		return nil, fmt.Errorf("data key %s is wrapped by %w %s, which this service was not given", s.ID, ErrMasterKey, s.MasterKeyID)
	}
	plain, err := master.Unwrap(ctx, s.Wrapped, wrapAAD(s.ID, s.CustomerID))
	if err != nil {
		return nil, fmt.Errorf("unwrap data key %s with %w %s: %w", s.ID, ErrMasterKey, s.MasterKeyID, err)
	}
	return plain, nil
}

// Rewrap returns s wrapped by the current master key instead of the one
// it names: master-key rotation, which touches no sealed value.
func (r *Keyring) Rewrap(ctx context.Context, s StoredKey) (StoredKey, error) {
	plain, err := r.unwrapBytes(ctx, s)
	if err != nil {
		return StoredKey{}, err
	}
	current := r.masters.Current()
	wrapped, err := current.Wrap(ctx, plain, wrapAAD(s.ID, s.CustomerID))
	if err != nil {
		return StoredKey{}, fmt.Errorf("wrap data key %s with master key %s: %w", s.ID, current.ID(), err)
	}
	s.Wrapped, s.MasterKeyID = wrapped, current.ID()
	return s, nil
}

// CurrentMasterKeyID is the id of the master key that wraps new keys.
func (r *Keyring) CurrentMasterKeyID() string { return r.masters.Current().ID() }

// wrapAAD binds a wrapped key to its id and customer: a wrapped key copied
// onto another row does not unwrap.
func wrapAAD(id, customerID uuid.UUID) []byte {
	return []byte("orderapi/data-key/" + id.String() + "/" + customerID.String())
}
