package cursor_test

import (
	"bytes"
	"encoding/base64"
	"errors"
	"strings"
	"testing"

	"github.com/orderapi/orderapi/internal/adapters/cursor"
)

func signer(t testing.TB, fill byte) *cursor.Signer {
	t.Helper()
	s, err := cursor.NewSigner(bytes.Repeat([]byte{fill}, cursor.KeySize))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

const (
	orders cursor.Purpose = 1
	feed   cursor.Purpose = 2
)

func TestSignedCursorRoundTrips(t *testing.T) {
	t.Parallel()
	s := signer(t, 1)
	for _, payload := range [][]byte{{}, {0}, []byte("0123456789abcdef01234567")} {
		text := s.Sign(orders, []byte("customer"), payload)
		if strings.ContainsAny(text, "+/=") {
			t.Errorf("cursor %q is not URL-safe", text)
		}
		got, err := s.Verify(orders, []byte("customer"), text, len(payload))
		if err != nil || !bytes.Equal(got, payload) {
			t.Errorf("Verify(Sign(%x)) = %x, %v", payload, got, err)
		}
	}
}

// TestOnlyIssuedCursorsVerify: a cursor verifies only with the key,
// purpose, scope and payload size it was signed with, unaltered.
func TestOnlyIssuedCursorsVerify(t *testing.T) {
	t.Parallel()
	s := signer(t, 1)
	payload := []byte("0123456789abcdef")
	valid := s.Sign(orders, []byte("scope"), payload)
	raw, _ := base64.RawURLEncoding.DecodeString(valid)
	altered := func(i int) string {
		b := bytes.Clone(raw)
		b[i] ^= 1
		return base64.RawURLEncoding.EncodeToString(b)
	}
	unsigned := base64.RawURLEncoding.EncodeToString(append([]byte{1}, payload...))
	tests := []struct {
		name    string
		signer  *cursor.Signer
		purpose cursor.Purpose
		scope   string
		text    string
		size    int
	}{
		{"another key (another database)", signer(t, 2), orders, "scope", valid, len(payload)},
		{"another purpose", s, feed, "scope", valid, len(payload)},
		{"another scope", s, orders, "scopf", valid, len(payload)},
		{"no scope", s, orders, "", valid, len(payload)},
		{"another payload size", s, orders, "scope", valid, len(payload) - 1},
		{"altered version", s, orders, "scope", altered(0), len(payload)},
		{"altered payload", s, orders, "scope", altered(1), len(payload)},
		{"altered tag", s, orders, "scope", altered(len(raw) - 1), len(payload)},
		{"padded", s, orders, "scope", valid + "=", len(payload)},
		{"standard alphabet", s, orders, "scope", base64.RawStdEncoding.EncodeToString(raw), len(payload)},
		{"truncated", s, orders, "scope", valid[:len(valid)-1], len(payload)},
		{"unsigned format 1", s, orders, "scope", unsigned, len(payload)},
		{"empty", s, orders, "scope", "", len(payload)},
		{"garbage", s, orders, "scope", strings.Repeat("A", len(valid)), len(payload)},
	}
	for _, tt := range tests {
		if got, err := tt.signer.Verify(tt.purpose, []byte(tt.scope), tt.text, tt.size); !errors.Is(err, cursor.ErrNotIssued) {
			t.Errorf("%s: Verify = %x, %v; want ErrNotIssued", tt.name, got, err)
		}
	}
}

// TestScopeAndPayloadDoNotRunTogether: moving bytes between the scope and
// the payload makes another cursor.
func TestScopeAndPayloadDoNotRunTogether(t *testing.T) {
	t.Parallel()
	s := signer(t, 1)
	a := s.Sign(orders, []byte("ab"), []byte("cd"))
	b := s.Sign(orders, []byte("a"), []byte("bcd"))
	if _, err := s.Verify(orders, []byte("a"), a, 2); err == nil {
		t.Error("a cursor verified with part of its scope")
	}
	ra, _ := base64.RawURLEncoding.DecodeString(a)
	rb, _ := base64.RawURLEncoding.DecodeString(b)
	if bytes.Equal(ra[len(ra)-16:], rb[len(rb)-16:]) {
		t.Error("two cursors share a tag")
	}
}

func TestNewSignerWantsAFullKey(t *testing.T) {
	t.Parallel()
	for _, n := range []int{0, 16, cursor.KeySize - 1, cursor.KeySize + 1} {
		if _, err := cursor.NewSigner(make([]byte, n)); err == nil {
			t.Errorf("a key of %d bytes was taken", n)
		}
	}
}

func FuzzVerify(f *testing.F) {
	s := signer(f, 1)
	f.Add(s.Sign(feed, nil, make([]byte, 16)))
	f.Add("AgAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")
	f.Fuzz(func(t *testing.T, text string) {
		payload, err := s.Verify(feed, nil, text, 16)
		if err == nil && s.Sign(feed, nil, payload) != text {
			t.Fatalf("Verify(%q) = %x, which signs as %q", text, payload, s.Sign(feed, nil, payload))
		}
	})
}

// A rekeyed signer signs with the new key and still takes the cursors of
// the key it replaced, but no older one's.
func TestRekeyKeepsTheKeyBefore(t *testing.T) {
	t.Parallel()
	// Given cursors signed with a first key, then a second
	s := signer(t, 1)
	first := s.Sign(orders, nil, []byte("a"))
	if err := s.Rekey(bytes.Repeat([]byte{2}, cursor.KeySize)); err != nil {
		t.Fatal(err)
	}
	second := s.Sign(orders, nil, []byte("a"))
	if first == second {
		t.Fatal("the new key signs as the old one did")
	}
	// When the key changes once more
	if err := s.Rekey(bytes.Repeat([]byte{3}, cursor.KeySize)); err != nil {
		t.Fatal(err)
	}
	// Then the second key's cursors verify, the first key's do not
	if _, err := s.Verify(orders, nil, second, 1); err != nil {
		t.Errorf("the replaced key's cursor: %v", err)
	}
	if _, err := s.Verify(orders, nil, first, 1); !errors.Is(err, cursor.ErrNotIssued) {
		t.Errorf("an older key's cursor: %v, want ErrNotIssued", err)
	}
	if err := s.Rekey([]byte("short")); err == nil {
		t.Error("Rekey took a short key")
	}
}
