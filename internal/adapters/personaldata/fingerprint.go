package personaldata

import (
	"crypto/sha256"
	"fmt"
	"hash"
	"sync"
)

// fingerprintKeyInfo is the HKDF info of the key of request fingerprints:
// a key for that use alone, never the master key itself, and another use
// would derive another.
const fingerprintKeyInfo = "orderapi request fingerprint v1"

// FingerprintKeyer is a master key that keys request fingerprints: a
// FileMasterKey, from a key HKDF derives from it. A KMS key would rather
// wrap a fingerprint key kept beside the data keys, since a MAC made by
// a call to it per request would cost too much.
type FingerprintKeyer interface {
	// NewFingerprintMAC returns a new HMAC-SHA-256 under the key.
	NewFingerprintMAC() hash.Hash
}

// RequestFingerprints fingerprints the requests that claim idempotency
// keys. A request's body may hold personal data, and its fingerprint is
// stored: an unkeyed digest, the same in every deployment, would let
// anyone with a copy of the database confirm a guess of that data by
// fingerprinting the guess. So a fingerprint is a MAC under a key derived
// from the master key, which the database does not hold.
type RequestFingerprints struct {
	// current fingerprints new claims; nil with no master key, when the
	// fingerprint is the unkeyed digest.
	current *fingerprintMAC
	// previous are the previous master keys', in order.
	previous []*fingerprintMAC
}

// NewRequestFingerprints keys request fingerprints with the current master
// key, and recognises those made under the previous ones: a retry of a
// request claimed before a rotation is still the same request (see
// Earlier). Every key must be a FingerprintKeyer.
func NewRequestFingerprints(masters *MasterKeys) (*RequestFingerprints, error) {
	current, err := newFingerprintMAC(masters.Current())
	if err != nil {
		return nil, err
	}
	f := &RequestFingerprints{current: current}
	for _, k := range masters.Previous() {
		m, err := newFingerprintMAC(k)
		if err != nil {
			return nil, err
		}
		f.previous = append(f.previous, m)
	}
	return f, nil
}

// UnkeyedRequestFingerprints fingerprints requests with a plain SHA-256,
// for a service without a master key: one that stores personal data in
// clear (ORDERAPI_PERSONAL_DATA_SEALING=off), where a keyed fingerprint
// would hide nothing the database does not show.
func UnkeyedRequestFingerprints() *RequestFingerprints { return &RequestFingerprints{} }

// Fingerprint is msg's fingerprint as a new claim stores it.
func (f *RequestFingerprints) Fingerprint(msg []byte) [32]byte {
	if f.current == nil {
		return sha256.Sum256(msg)
	}
	return f.current.sum(msg)
}

// Earlier says whether stored is msg's fingerprint in a form that claims
// made before Fingerprint's may hold: under a previous master key, or the
// unkeyed SHA-256 of builds before keyed fingerprints. Trying each form in
// turn needs no record of which one a claim used, so the table is as it
// was and claims of every age are recognised; it costs nothing on a
// retry's usual path (the current form matches first), and a match in any
// form is the same request, since no two forms give the same 32 bytes for
// different requests but by a SHA-256 collision. A claim made under a key
// no longer configured is no longer recognised: its retry is refused as
// another request's, never executed twice (the README's rotation steps
// keep the previous key until such claims have expired).
func (f *RequestFingerprints) Earlier(msg []byte, stored [32]byte) bool {
	if f.current == nil {
		return false
	}
	for _, m := range f.previous {
		if m.sum(msg) == stored {
			return true
		}
	}
	return sha256.Sum256(msg) == stored
}

// fingerprintMAC makes the MACs of one master key, each reused once
// done: a new HMAC costs several allocations, a reused one none.
type fingerprintMAC struct{ pool sync.Pool }

func newFingerprintMAC(k MasterKey) (*fingerprintMAC, error) {
	fk, ok := k.(FingerprintKeyer)
	if !ok {
		return nil, fmt.Errorf("master key %s keys no request fingerprints", k.ID())
	}
	m := &fingerprintMAC{}
	m.pool.New = func() any { return fk.NewFingerprintMAC() }
	return m, nil
}

func (m *fingerprintMAC) sum(msg []byte) [32]byte {
	h := m.pool.Get().(hash.Hash)
	h.Reset()
	_, _ = h.Write(msg)
	var out [32]byte
	h.Sum(out[:0])
	m.pool.Put(h)
	return out
}
