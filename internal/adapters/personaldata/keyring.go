package personaldata

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

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

// maxCachedKeys bounds a Keyring's cache. A key costs about a kilobyte
// unwrapped (AES's key schedule and GCM's tables); a cache that is full is
// emptied and refilled by the reads that follow.
const maxCachedKeys = 100_000

// DefaultKeyTrust is how long a Keyring uses a live key it holds before it
// asks the store again whether the key still lives: the longest a replica
// that missed an erasure's notification opens or seals with a destroyed
// key.
const DefaultKeyTrust = 15 * time.Second

// Keyring unwraps data keys and keeps them, so that a read or a command
// costs no round trip to the key store or the master key after the first.
// A key that was destroyed is remembered as such; a key that is live is
// dropped when its customer is forgotten (Forget, on erasure, in every
// replica) or the cache is cleared (ForgetAll).
//
// Being told is not counted on alone: a live key is trusted for a while
// (its trust) from when the store last said it lived, and then asked about
// again, once for all the callers that need it meanwhile, before it is
// used. So a key destroyed unheard (a notification lost with its
// connection) is out of use within the trust at most.
type Keyring struct {
	store   KeyStore
	masters *MasterKeys
	trust   time.Duration
	// born is the origin of the keyring's clock (see now): monotonic, so
	// that a step of the wall clock neither stretches nor cuts a trust.
	born time.Time

	mu sync.RWMutex
	// byID holds the keys, live and destroyed.
	byID map[uuid.UUID]*cachedKey
	// live is each customer's live key, for sealing: entries of byID.
	live map[uuid.UUID]*cachedKey
	// epoch counts forgettings: a key read from the store while one
	// happened may be stale, so it is not cached.
	epoch uint64
}

// cachedKey is a key a Keyring holds.
type cachedKey struct {
	// key is nil for a key destroyed: for good, never asked about again.
	key *DataKey
	// until is when, on the keyring's clock, the key must be asked about
	// again before its next use.
	until atomic.Int64
	// check is the question about it in flight, if any; guarded by the
	// keyring's mu.
	check *keyCheck
}

// keyCheck is one question to the store whether a key still lives,
// shared by every caller that finds the key due meanwhile.
type keyCheck struct {
	done chan struct{}
	// live and err are the answer, set before done closes.
	live bool
	err  error
}

// destroyedKey is the entry of every key known destroyed, unknownKey of
// every id no key was ever stored under.
var destroyedKey, unknownKey = &cachedKey{}, &cachedKey{}

// NewKeyring returns an empty Keyring over the store and master keys that
// trusts a key for DefaultKeyTrust.
func NewKeyring(store KeyStore, masters *MasterKeys) *Keyring {
	return NewKeyringTrusting(store, masters, DefaultKeyTrust)
}

// NewKeyringTrusting is NewKeyring with a key trusted for trust (see
// Keyring); DefaultKeyTrust if it is not positive.
func NewKeyringTrusting(store KeyStore, masters *MasterKeys, trust time.Duration) *Keyring {
	if trust <= 0 {
		trust = DefaultKeyTrust
	}
	return &Keyring{store: store, masters: masters, trust: trust, born: time.Now(),
		byID: map[uuid.UUID]*cachedKey{}, live: map[uuid.UUID]*cachedKey{}}
}

// now reads the keyring's clock: the time since it was made.
func (r *Keyring) now() int64 { return int64(time.Since(r.born)) }

// trusted reports whether e may be used without asking the store.
func (r *Keyring) trusted(e *cachedKey) bool { return r.now() < e.until.Load() }

// ForSealing returns the customer's live key, making and storing one when
// the customer has none (a new customer, or one whose data was erased:
// personal data recorded after an erasure gets a new key).
func (r *Keyring) ForSealing(ctx context.Context, customerID uuid.UUID) (*DataKey, error) {
	k, epoch, err := r.cachedLive(ctx, customerID)
	if k != nil || err != nil {
		return k, err
	}
	checked := r.now()
	candidate, _, err := r.newKey(ctx, customerID)
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
	r.remember(stored.ID, customerID, k, true, epoch, checked)
	return k, nil
}

// Candidate is a data key made for a customer that had no live key this
// keyring knew of, handed out before it is stored: the writer stores it in
// the transaction that writes what it seals, unless the customer has a
// live key by then, and tells the keyring with Stored once that committed.
type Candidate struct {
	// Stored is the key as its store keeps it, to be inserted.
	Stored StoredKey
	key    *DataKey
	// epoch and checked are the keyring's when it was made: a forgetting
	// since wins over it, and its trust runs from before it was stored.
	epoch   uint64
	checked int64
}

// ForSealingFirst is ForSealing, except that for a customer without a
// live key in the cache it stores nothing: it returns a new key and its
// Candidate, which the keyring does not hold until Stored is called.
// Whoever seals with it must make sure what it sealed is refused when the
// candidate was not stored (the customer had a live key by then): the
// events table's trigger refuses an event whose key is not live (OAKEY).
// Sealed again, it takes ForSealing, which reads the stored key.
func (r *Keyring) ForSealingFirst(ctx context.Context, customerID uuid.UUID) (*DataKey, *Candidate, error) {
	k, epoch, err := r.cachedLive(ctx, customerID)
	if k != nil || err != nil {
		return k, nil, err
	}
	c := &Candidate{epoch: epoch, checked: r.now()}
	if c.Stored, c.key, err = r.newKey(ctx, customerID); err != nil {
		return nil, nil, err
	}
	return c.key, c, nil
}

// Stored has the keyring hold c as its customer's live key: the
// transaction that stored it committed. A forgetting since c was made
// wins: the key is then read from the store at its next use.
func (r *Keyring) Stored(c *Candidate) {
	r.remember(c.Stored.ID, c.Stored.CustomerID, c.key, true, c.epoch, c.checked)
}

// cachedLive returns the customer's live key from the cache, asked about
// again first if its trust has run out; nil (and no error) when there is
// none, with the epoch to remember a key read or made for it under.
func (r *Keyring) cachedLive(ctx context.Context, customerID uuid.UUID) (*DataKey, uint64, error) {
	r.mu.RLock()
	e, epoch := r.live[customerID], r.epoch
	r.mu.RUnlock()
	if e == nil {
		return nil, epoch, nil
	}
	if r.trusted(e) {
		return e.key, epoch, nil
	}
	k, err := r.recheck(ctx, e)
	if !errors.Is(err, ErrErased) {
		return k, epoch, err
	}
	// Destroyed unheard: the customer gets another.
	r.mu.RLock()
	epoch = r.epoch
	r.mu.RUnlock()
	return nil, epoch, nil
}

// Key returns the key of that id for opening; ErrErased if it was
// destroyed, ErrUnknownKey (which is ErrErased too) if no key of that id
// was ever stored.
func (r *Keyring) Key(ctx context.Context, id uuid.UUID) (*DataKey, error) {
	r.mu.RLock()
	e, known := r.byID[id]
	epoch := r.epoch
	r.mu.RUnlock()
	if !known {
		return r.load(ctx, id, epoch)
	}
	if e.key == nil {
		if e == unknownKey {
			return nil, ErrUnknownKey
		}
		return nil, ErrErased
	}
	if r.trusted(e) {
		return e.key, nil
	}
	return r.recheck(ctx, e)
}

// load reads the key of that id from the store and keeps it, unless a
// forgetting happened since epoch was read.
func (r *Keyring) load(ctx context.Context, id uuid.UUID, epoch uint64) (*DataKey, error) {
	checked := r.now()
	stored, ok, err := r.store.Key(ctx, id)
	if err != nil {
		return nil, fmt.Errorf("data key %s: %w", id, err)
	}
	if !ok {
		r.rememberUnknown(id, epoch)
		return nil, ErrUnknownKey
	}
	if stored.Destroyed() {
		r.remember(id, stored.CustomerID, nil, false, epoch, checked)
		return nil, ErrErased
	}
	k, err := r.unwrap(ctx, stored)
	if err != nil {
		return nil, err
	}
	r.remember(id, stored.CustomerID, k, false, epoch, checked)
	return k, nil
}

// recheck asks the store whether e's key, past its trust, still lives,
// and returns it, trusted again, or ErrErased. Callers that find it due
// together share one question. A key forgotten meanwhile is read afresh.
func (r *Keyring) recheck(ctx context.Context, e *cachedKey) (*DataKey, error) {
	id := e.key.ID
	for {
		r.mu.Lock()
		if r.byID[id] != e {
			epoch := r.epoch
			r.mu.Unlock()
			return r.load(ctx, id, epoch)
		}
		if r.trusted(e) {
			// Another caller's question renewed it.
			r.mu.Unlock()
			return e.key, nil
		}
		c := e.check
		asker := c == nil
		if asker {
			c = &keyCheck{done: make(chan struct{})}
			e.check = c
		}
		r.mu.Unlock()
		if asker {
			r.ask(ctx, e, c)
		} else {
			select {
			case <-c.done:
			case <-ctx.Done():
				return nil, ctx.Err()
			}
		}
		switch {
		case c.err == nil && c.live:
			return e.key, nil
		case c.err == nil:
			return nil, ErrErased
		case !asker && ctx.Err() == nil && (errors.Is(c.err, context.Canceled) || errors.Is(c.err, context.DeadlineExceeded)):
			// The asker's request ended, not ours: ask again.
			continue
		}
		return nil, c.err
	}
}

// ask puts c's question about e to the store, and records the answer: a
// live key is trusted for another while from when the question was put, a
// destroyed one is remembered as such.
func (r *Keyring) ask(ctx context.Context, e *cachedKey, c *keyCheck) {
	id := e.key.ID
	checked := r.now()
	stored, ok, err := r.store.Key(ctx, id)
	r.mu.Lock()
	defer r.mu.Unlock()
	defer close(c.done)
	e.check = nil
	if err != nil {
		c.err = fmt.Errorf("data key %s: %w", id, err)
		return
	}
	if c.live = ok && !stored.Destroyed(); c.live {
		e.until.Store(checked + int64(r.trust))
		return
	}
	if r.byID[id] == e {
		r.byID[id] = destroyedKey
	}
	if r.live[e.key.CustomerID] == e {
		delete(r.live, e.key.CustomerID)
	}
}

// Forget drops the customer's keys from the cache: they were destroyed,
// and the next use reads that from the store.
func (r *Keyring) Forget(customerID uuid.UUID) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.epoch++
	delete(r.live, customerID)
	for id, e := range r.byID {
		if e.key != nil && e.key.CustomerID == customerID {
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

// rememberUnknown caches that no key was ever stored under id, unless a
// forgetting happened since epoch was read.
func (r *Keyring) rememberUnknown(id uuid.UUID, epoch uint64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.admits(epoch) {
		r.byID[id] = unknownKey
	}
}

// admits reports whether an entry read or made under epoch may be cached
// (no forgetting happened since), making room first; the caller holds mu
// for writing.
func (r *Keyring) admits(epoch uint64) bool {
	if r.epoch != epoch {
		return false
	}
	if len(r.byID) >= maxCachedKeys || len(r.live) >= maxCachedKeys {
		clear(r.byID)
		clear(r.live)
	}
	return true
}

// remember caches k (nil: destroyed), trusted from checked, when the
// store was asked, unless a forgetting happened since epoch was read. A
// key already held keeps its entry, trusted anew: callers that hold the
// entry (the customer's live key) see what is learnt of it.
func (r *Keyring) remember(id, customerID uuid.UUID, k *DataKey, live bool, epoch uint64, checked int64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.admits(epoch) {
		return
	}
	old := r.byID[id]
	if k == nil {
		r.byID[id] = destroyedKey
		if old != nil && old.key != nil && r.live[old.key.CustomerID] == old {
			delete(r.live, old.key.CustomerID)
		}
		return
	}
	if old == destroyedKey {
		// Destroyed for good: a store read from before is stale.
		return
	}
	e := old
	if e == nil {
		e = &cachedKey{key: k}
	}
	if until := checked + int64(r.trust); until > e.until.Load() {
		e.until.Store(until)
	}
	r.byID[id] = e
	if live {
		r.live[customerID] = e
	}
}

// newKey makes a data key for the customer, wrapped by the current master
// key: as stored, and unwrapped.
func (r *Keyring) newKey(ctx context.Context, customerID uuid.UUID) (StoredKey, *DataKey, error) {
	plain := make([]byte, DataKeySize)
	if _, err := rand.Read(plain); err != nil {
		return StoredKey{}, nil, err
	}
	id, err := uuid.NewV7()
	if err != nil {
		return StoredKey{}, nil, err
	}
	master := r.masters.Current()
	wrapped, err := master.Wrap(ctx, plain, wrapAAD(id, customerID))
	if err != nil {
		return StoredKey{}, nil, fmt.Errorf("wrap a data key with master key %s: %w", master.ID(), err)
	}
	k, err := newDataKey(id, customerID, plain)
	if err != nil {
		return StoredKey{}, nil, err
	}
	return StoredKey{ID: id, CustomerID: customerID, Wrapped: wrapped, MasterKeyID: master.ID()}, k, nil
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
