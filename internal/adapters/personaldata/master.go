package personaldata

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io/fs"
	"path/filepath"
	"strings"

	"github.com/orderapi/orderapi/internal/adapters/secretfile"
)

// MasterKey wraps and unwraps data keys. It never leaves its keeper: a
// file read at start (FileMasterKey) or a cloud KMS, whose Wrap and Unwrap
// are calls to it.
type MasterKey interface {
	// ID names the key; every wrapped data key records it, so that a
	// rotation knows what is left to re-wrap.
	ID() string
	// Wrap seals a data key; aad binds it to its row.
	Wrap(ctx context.Context, dataKey, aad []byte) ([]byte, error)
	// Unwrap opens what Wrap sealed with the same aad.
	Unwrap(ctx context.Context, wrapped, aad []byte) ([]byte, error)
}

// MasterKeys is the current master key, which wraps every new data key,
// and the previous ones still named by wrapped keys until a rotation has
// re-wrapped them all.
type MasterKeys struct {
	current  MasterKey
	previous []MasterKey
	byID     map[string]MasterKey
}

// NewMasterKeys returns current and previous as one set.
func NewMasterKeys(current MasterKey, previous ...MasterKey) *MasterKeys {
	m := &MasterKeys{current: current, byID: map[string]MasterKey{current.ID(): current}}
	for _, k := range previous {
		if _, ok := m.byID[k.ID()]; !ok {
			m.byID[k.ID()] = k
			m.previous = append(m.previous, k)
		}
	}
	return m
}

// Current is the key that wraps new data keys.
func (m *MasterKeys) Current() MasterKey { return m.current }

// Previous are the other keys, in the order given, each once.
func (m *MasterKeys) Previous() []MasterKey { return m.previous }

// ByID is the key of that id; ok is false if the set has none.
func (m *MasterKeys) ByID(id string) (_ MasterKey, ok bool) {
	k, ok := m.byID[id]
	return k, ok
}

// MasterKeySize is the size of a master key held in a file: AES-256.
const MasterKeySize = 32

// FileMasterKey is a master key held in this process, read from a file
// of 64 hexadecimal digits (as `openssl rand -hex 32` writes).
type FileMasterKey struct {
	id   string
	aead cipher.AEAD
	// fingerprintKey keys the MACs of request fingerprints: derived from
	// the master key, which itself only wraps.
	fingerprintKey []byte
}

// NewFileMasterKey returns the master key of the given bytes.
func NewFileMasterKey(key []byte) (*FileMasterKey, error) {
	if err := checkMasterKey(key); err != nil {
		return nil, fmt.Errorf("master key: %w", err)
	}
	aead, err := newAEAD(key)
	if err != nil {
		return nil, err
	}
	// The id is a digest of the key, never the key: the same file always
	// has the same id, and the id tells nothing of the key.
	sum := sha256.Sum256(append([]byte("orderapi master key id\x00"), key...))
	fk, err := hkdf.Key(sha256.New, key, nil, fingerprintKeyInfo, sha256.Size)
	if err != nil {
		return nil, err
	}
	return &FileMasterKey{id: "file:" + hex.EncodeToString(sum[:8]), aead: aead, fingerprintKey: fk}, nil
}

// checkMasterKey refuses bytes that cannot be a master key: the wrong
// size, or all zero, which is a placeholder rather than a secret.
func checkMasterKey(key []byte) error {
	if len(key) != MasterKeySize {
		return fmt.Errorf("%d bytes, want %d", len(key), MasterKeySize)
	}
	if subtle.ConstantTimeCompare(key, make([]byte, MasterKeySize)) == 1 {
		return fmt.Errorf("all zero bytes, a placeholder rather than a secret: make one with openssl rand -hex %d", MasterKeySize)
	}
	return nil
}

// ID is "file:" and 16 hexadecimal digits of a digest of the key.
func (k *FileMasterKey) ID() string { return k.id }

// Wrap seals dataKey under a fresh nonce.
func (k *FileMasterKey) Wrap(_ context.Context, dataKey, aad []byte) ([]byte, error) {
	return seal(k.aead, dataKey, aad), nil
}

// Unwrap opens what Wrap sealed.
func (k *FileMasterKey) Unwrap(_ context.Context, wrapped, aad []byte) ([]byte, error) {
	return open(k.aead, wrapped, aad)
}

// NewFingerprintMAC returns an HMAC-SHA-256 under the key HKDF derives
// from the master key for request fingerprints.
func (k *FileMasterKey) NewFingerprintMAC() hash.Hash {
	return hmac.New(sha256.New, k.fingerprintKey)
}

// LoadMasterKeyFile reads a master key from a file that only its owner
// may read, in a folder only its owner may write to.
func LoadMasterKeyFile(path string) (*FileMasterKey, error) {
	b, err := secretfile.Read(path, "master key")
	if err != nil {
		return nil, err
	}
	key, err := hex.DecodeString(strings.TrimSpace(string(b)))
	if err != nil || len(key) != MasterKeySize {
		return nil, fmt.Errorf("master key %s: want %d bytes as %d hexadecimal digits (openssl rand -hex %d)",
			path, MasterKeySize, 2*MasterKeySize, MasterKeySize)
	}
	if err := checkMasterKey(key); err != nil {
		return nil, fmt.Errorf("master key %s: %w", path, err)
	}
	return NewFileMasterKey(key)
}

// DevMasterKeyFile is the master key's file in the development folder.
const DevMasterKeyFile = "master-key.hex"

// OpenDevMasterKey loads the development master key kept in dir, or
// makes one and keeps it there when there is none; created says which.
// Development mode only: a key beside the code it protects is no
// protection.
func OpenDevMasterKey(dir string) (k *FileMasterKey, created bool, err error) {
	path := filepath.Join(dir, DevMasterKeyFile)
	k, err = LoadMasterKeyFile(path)
	if !errors.Is(err, fs.ErrNotExist) {
		return k, false, err
	}
	key := make([]byte, MasterKeySize)
	if _, err := rand.Read(key); err != nil {
		return nil, false, err
	}
	err = secretfile.WriteNew(dir, DevMasterKeyFile, []byte(hex.EncodeToString(key)+"\n"))
	if errors.Is(err, fs.ErrExist) {
		// Another process made one first: use it.
		k, err = LoadMasterKeyFile(path)
		return k, false, err
	}
	if err != nil {
		return nil, false, err
	}
	k, err = NewFileMasterKey(key)
	return k, err == nil, err
}

// newAEAD is AES-256-GCM over key.
func newAEAD(key []byte) (cipher.AEAD, error) {
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(block)
}

// sealVersion leads every sealed value and wrapped key: AES-256-GCM with
// a 12-byte random nonce. Another algorithm would get another byte.
const sealVersion = 1

// seal is sealVersion, a fresh nonce, and the AEAD of plain under it.
func seal(aead cipher.AEAD, plain, aad []byte) []byte {
	out := make([]byte, 1+aead.NonceSize(), 1+aead.NonceSize()+len(plain)+aead.Overhead())
	out[0] = sealVersion
	if _, err := rand.Read(out[1:]); err != nil {
		// crypto/rand does not fail on the systems Go supports.
		panic(err)
	}
	return aead.Seal(out, out[1:1+aead.NonceSize()], plain, aad)
}

// ErrNotOpened is open's error for a value it cannot open: not sealed by
// this code, sealed under another key, or moved from another place.
var ErrNotOpened = errors.New("sealed value does not open")

func open(aead cipher.AEAD, sealed, aad []byte) ([]byte, error) {
	n := aead.NonceSize()
	if len(sealed) < 1+n+aead.Overhead() || sealed[0] != sealVersion {
		return nil, ErrNotOpened
	}
	plain, err := aead.Open(nil, sealed[1:1+n], sealed[1+n:], aad)
	if err != nil {
		return nil, ErrNotOpened
	}
	return plain, nil
}

// b64 is how sealed values are written in JSON and text columns.
var b64 = base64.RawStdEncoding
