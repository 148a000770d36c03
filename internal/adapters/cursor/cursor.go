// Package cursor makes the opaque cursors the API hands out for paging: a
// position in a listing, signed with a key of the deployment's together
// with what the cursor is for and the query it continues. A client can
// keep a cursor and send it back, but not forge one, alter one, use one
// for another listing or query, or bring one from another deployment
// (another database, another key): each is refused as not issued.
//
// A cursor is base64url text, unpadded, of a version byte (Version), the
// caller's payload and a tag: HMAC-SHA256 truncated to 16 bytes over the
// version, the purpose, the scope and the payload. The payload is
// readable by whoever holds the cursor; it is authenticated, not secret.
package cursor

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"hash"
	"sync"
	"sync/atomic"
)

// Version is the first byte of every cursor Sign makes. Version 1 was
// unsigned; the callers that still accept it read it themselves.
const Version = 2

// KeySize is the size of the keys Signer takes: HMAC-SHA256's block of
// entropy.
const KeySize = 32

// tagSize is the part of the HMAC kept: 128 bits leave a forger one chance
// in 2^128 per try.
const tagSize = 16

// ErrNotIssued is Verify's answer to a cursor Sign did not make with this
// key, purpose and scope, whatever is wrong with it.
var ErrNotIssued = errors.New("not a cursor issued for this")

// Purpose tells apart the listings cursors are issued for, so that a
// cursor of one is never taken for another's, whatever its payload.
type Purpose byte

// Signer signs and verifies cursors with one key at a time. It is safe
// for concurrent use.
type Signer struct {
	keys atomic.Pointer[keyring]
}

// keyring is the key Sign uses and, after Rekey, the one before it.
type keyring struct {
	current, previous *macs
}

// macs holds keyed HMACs of one key to reuse: keying one costs two
// SHA-256 blocks, as much as the rest of a cursor's tag.
type macs struct{ pool sync.Pool }

func newMACs(key []byte) (*macs, error) {
	if len(key) != KeySize {
		return nil, fmt.Errorf("cursor: a key has %d bytes, not %d", KeySize, len(key))
	}
	key = bytes.Clone(key)
	m := &macs{}
	m.pool.New = func() any { return hmac.New(sha256.New, key) }
	return m, nil
}

// NewSigner returns a Signer for key, which must be KeySize random bytes.
func NewSigner(key []byte) (*Signer, error) {
	m, err := newMACs(key)
	if err != nil {
		return nil, err
	}
	s := &Signer{}
	s.keys.Store(&keyring{current: m})
	return s, nil
}

// Rekey makes key the one Sign uses from now on. Cursors signed with the
// key it replaces still verify, so that a client paging across the
// change goes on; those of any older key do not.
func (s *Signer) Rekey(key []byte) error {
	m, err := newMACs(key)
	if err != nil {
		return err
	}
	s.keys.Store(&keyring{current: m, previous: s.keys.Load().current})
	return nil
}

// Sign returns the cursor of payload for purpose and scope. scope is what
// the cursor is valid for besides its purpose (the query it continues);
// it is signed but not carried.
func (s *Signer) Sign(p Purpose, scope, payload []byte) string {
	b := make([]byte, 0, 1+len(payload)+tagSize)
	b = append(b, Version)
	b = append(b, payload...)
	b = append(b, s.keys.Load().current.tag(p, scope, payload)...)
	return base64.RawURLEncoding.EncodeToString(b)
}

// Verify returns the payload of a cursor that Sign made with this key for
// purpose and scope, of payloadSize bytes; ErrNotIssued for any other
// text.
func (s *Signer) Verify(p Purpose, scope []byte, text string, payloadSize int) ([]byte, error) {
	size := 1 + payloadSize + tagSize
	if base64.RawURLEncoding.EncodedLen(size) != len(text) {
		return nil, ErrNotIssued
	}
	b, err := base64.RawURLEncoding.Strict().DecodeString(text)
	if err != nil || len(b) != size || b[0] != Version {
		return nil, ErrNotIssued
	}
	payload, tag := b[1:1+payloadSize], b[1+payloadSize:]
	keys := s.keys.Load()
	for _, k := range []*macs{keys.current, keys.previous} {
		if k != nil && hmac.Equal(tag, k.tag(p, scope, payload)) {
			return payload, nil
		}
	}
	return nil, ErrNotIssued
}

// tag authenticates what a cursor holds and what it is for. The scope's
// length comes first, so that no scope and payload pair can pass for
// another.
func (k *macs) tag(p Purpose, scope, payload []byte) []byte {
	m := k.pool.Get().(hash.Hash)
	defer k.pool.Put(m)
	m.Reset()
	var head [len(domain) + 2 + binary.MaxVarintLen64]byte
	h := append(append(head[:0], domain...), Version, byte(p))
	m.Write(binary.AppendUvarint(h, uint64(len(scope))))
	m.Write(scope)
	m.Write(payload)
	var sum [sha256.Size]byte
	return m.Sum(sum[:0])[:tagSize]
}

// domain keeps these tags apart from any other use of the key.
const domain = "orderapi cursor"
