package personaldata

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"strings"
	"testing"
)

// masterKeyOf is the file master key of 32 bytes of fill.
func masterKeyOf(t testing.TB, fill byte) *FileMasterKey {
	t.Helper()
	k, err := NewFileMasterKey(bytes.Repeat([]byte{fill}, MasterKeySize))
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// fingerprintsOf are the request fingerprints of current and previous.
func fingerprintsOf(t testing.TB, current MasterKey, previous ...MasterKey) *RequestFingerprints {
	t.Helper()
	f, err := NewRequestFingerprints(NewMasterKeys(current, previous...))
	if err != nil {
		t.Fatal(err)
	}
	return f
}

const testRequest = "POST\n/v1/orders/0190d6ca-1111-7000-8000-00000000abcd/place\n2\n" +
	`{"shipping_address":{"name":"Ada Lovelace","line1":"12 St James's Square","city":"London","postal_code":"SW1Y 4JH","country":"GB"}}`

func TestAFingerprintIsKeyedByTheMasterKey(t *testing.T) {
	t.Parallel()
	// Given one request and two master keys
	msg := []byte(testRequest)
	one, two := fingerprintsOf(t, masterKeyOf(t, 1)), fingerprintsOf(t, masterKeyOf(t, 2))

	// When it is fingerprinted under each
	a, b := one.Fingerprint(msg), two.Fingerprint(msg)

	// Then the fingerprints differ, and neither is the unkeyed digest that
	// anyone could compute from a guess
	if a == b {
		t.Error("two master keys give the same fingerprint")
	}
	if plain := sha256.Sum256(msg); a == plain || b == plain {
		t.Error("a fingerprint is the request's unkeyed SHA-256")
	}
	// And neither is an HMAC under the master key itself: the MAC has a
	// key of its own
	mac := hmac.New(sha256.New, bytes.Repeat([]byte{1}, MasterKeySize))
	mac.Write(msg)
	if bytes.Equal(a[:], mac.Sum(nil)) {
		t.Error("the fingerprint is keyed by the master key itself")
	}
	// And the same key gives the same fingerprint again, another request
	// another one
	if again := one.Fingerprint(msg); again != a {
		t.Error("the same request under the same key was fingerprinted twice otherwise")
	}
	if other := one.Fingerprint(append(msg, ' ')); other == a {
		t.Error("two requests have one fingerprint")
	}
}

func TestEarlierFingerprintsAreRecognisedAfterARotation(t *testing.T) {
	t.Parallel()
	// Given a request fingerprinted under the old master key, and by a
	// build that did not key fingerprints
	msg := []byte(testRequest)
	oldKey, newKey := masterKeyOf(t, 1), masterKeyOf(t, 2)
	underOld := fingerprintsOf(t, oldKey).Fingerprint(msg)
	unkeyed := sha256.Sum256(msg)

	// When the new master key is the current one, the old one previous
	rotated := fingerprintsOf(t, newKey, oldKey)

	// Then new claims are fingerprinted under the new key
	if rotated.Fingerprint(msg) != fingerprintsOf(t, newKey).Fingerprint(msg) {
		t.Error("the current key does not fingerprint new claims")
	}
	// And the earlier forms of the same request are recognised
	if !rotated.Earlier(msg, underOld) {
		t.Error("the fingerprint under the previous key is not recognised")
	}
	if !rotated.Earlier(msg, unkeyed) {
		t.Error("the unkeyed fingerprint of an earlier build is not recognised")
	}
	// And no form of another request is, nor an erased fingerprint
	other := append(bytes.Clone(msg), ' ')
	for name, stored := range map[string][32]byte{
		"another request under the previous key": underOld,
		"another request unkeyed":                unkeyed,
		"another request under the current key":  rotated.Fingerprint(msg),
	} {
		if rotated.Earlier(other, stored) {
			t.Errorf("%s is recognised", name)
		}
	}
	if rotated.Earlier(msg, [32]byte{}) {
		t.Error("an erased fingerprint is recognised")
	}
	// And once the old key is no longer configured, its fingerprints are
	// no longer this request's
	if fingerprintsOf(t, newKey).Earlier(msg, underOld) {
		t.Error("a key no longer configured is recognised")
	}
}

func TestUnkeyedFingerprintsAreTheRequestsDigest(t *testing.T) {
	t.Parallel()
	// Given no master key (personal data stored in clear)
	f := UnkeyedRequestFingerprints()
	msg := []byte(testRequest)

	// Then a fingerprint is the unkeyed SHA-256 of earlier builds, and
	// there is no other form to recognise
	if f.Fingerprint(msg) != sha256.Sum256(msg) {
		t.Error("the unkeyed fingerprint is not the request's SHA-256")
	}
	if f.Earlier(msg, fingerprintsOf(t, masterKeyOf(t, 1)).Fingerprint(msg)) {
		t.Error("a keyed fingerprint is recognised without a key")
	}
}

func TestAMasterKeyThatKeysNoFingerprintsIsRefused(t *testing.T) {
	t.Parallel()
	// Given a master key of another kind, previous to a file master key
	masters := NewMasterKeys(masterKeyOf(t, 1), wrapOnly{})

	// When request fingerprints are made of them
	_, err := NewRequestFingerprints(masters)

	// Then they are refused, naming the key
	if err == nil || !strings.Contains(err.Error(), "wrap-only") {
		t.Errorf("NewRequestFingerprints = %v", err)
	}
}

// wrapOnly is a master key that only wraps.
type wrapOnly struct{}

func (wrapOnly) ID() string { return "wrap-only" }
func (wrapOnly) Wrap(context.Context, []byte, []byte) ([]byte, error) {
	return nil, nil
}
func (wrapOnly) Unwrap(context.Context, []byte, []byte) ([]byte, error) {
	return nil, nil
}

func BenchmarkRequestFingerprint(b *testing.B) {
	f := fingerprintsOf(b, masterKeyOf(b, 1))
	msg := []byte(testRequest)
	b.ReportAllocs()
	for b.Loop() {
		f.Fingerprint(msg)
	}
}
