package personaldata

import (
	"bytes"
	"crypto/rand"
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/google/uuid"
)

func testKey(t testing.TB) *DataKey {
	t.Helper()
	raw := make([]byte, DataKeySize)
	rand.Read(raw)
	k, err := newDataKey(uuid.New(), uuid.New(), raw)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func TestASealedValueOpensOnlyInItsPlaceUnderItsKey(t *testing.T) {
	// Given a value sealed for one field of one event
	k, other := testKey(t), testKey(t)
	place := Place("event", "e1", "shipping_address")
	sealed := k.Seal([]byte(`{"name":"Ada"}`), place)

	// Then it opens there, to the same bytes
	if got, err := k.Open(sealed, place); err != nil || string(got) != `{"name":"Ada"}` {
		t.Fatalf("open: %q, %v", got, err)
	}
	// And nowhere else: another event, another field, another key, altered
	altered := []byte(sealed)
	altered[len(altered)/2] ^= 1
	for name, open := range map[string]func() ([]byte, error){
		"another event": func() ([]byte, error) { return k.Open(sealed, Place("event", "e2", "shipping_address")) },
		"another field": func() ([]byte, error) { return k.Open(sealed, Place("event", "e1", "signature")) },
		"another key":   func() ([]byte, error) { return other.Open(sealed, place) },
		"altered":       func() ([]byte, error) { return k.Open(string(altered), place) },
		"not sealed":    func() ([]byte, error) { return k.Open("Ada Lovelace", place) },
	} {
		if got, err := open(); !errors.Is(err, ErrNotOpened) {
			t.Errorf("%s: opened to %q, %v", name, got, err)
		}
	}
	// And sealing the same value twice gives two different texts
	if again := k.Seal([]byte(`{"name":"Ada"}`), place); again == sealed {
		t.Error("a nonce was reused")
	}
}

func TestSealedMembersHideTheirValuesAndNameTheirKey(t *testing.T) {
	// Given an event's data with two personal members, one of them null
	k := testKey(t)
	data := []byte(`{"order_id":"o1","shipping_address":{"name":"Ada \"Countess\" Lovelace","city":"Lond\u00f6n"},"reason":null,"total_amount":"9.00"}`)
	fields := []string{"shipping_address", "reason", "signature"}
	place := func(f string) string { return Place("event", "e1", f) }

	// When its members are sealed
	sealed, did, err := SealMembers(data, fields, func(string) (*DataKey, error) { return k, nil }, place)
	if err != nil || !did {
		t.Fatalf("seal: %s, %v, %v", sealed, did, err)
	}

	// Then the personal values are gone from the text, the others stay
	if bytes.Contains(sealed, []byte("Ada")) || bytes.Contains(sealed, []byte("Lond")) {
		t.Errorf("personal data in clear: %s", sealed)
	}
	if !bytes.Contains(sealed, []byte(`"total_amount":"9.00"`)) || !bytes.Contains(sealed, []byte(`"reason":null`)) || bytes.Contains(sealed, []byte("signature")) {
		t.Errorf("other members changed: %s", sealed)
	}
	// And the sealed member names its key and opens to the original value
	var m map[string]any
	if err := json.Unmarshal(sealed, &m); err != nil {
		t.Fatal(err)
	}
	text, _ := m["shipping_address"].(string)
	if !strings.HasPrefix(text, k.ID.String()+".") {
		t.Fatalf("sealed member %q does not name key %s", text, k.ID)
	}
	plain, err := k.Open(text, place("shipping_address"))
	if err != nil || !sameJSON(t, plain, []byte(`{"name":"Ada \"Countess\" Lovelace","city":"Lond\u00f6n"}`)) {
		t.Errorf("opened %s, %v", plain, err)
	}
}

func TestAnErasedRecordReadsNullInEveryPersonalMember(t *testing.T) {
	// Given data with one personal member present and one absent
	data := []byte(`{"order_id":"o1","reason":"x.y","total_amount":"9.00"}`)

	// When its personal members are nulled
	got, err := NullMembers(data, []string{"reason", "signature"})

	// Then both read null, the absent one added
	if want := `{"order_id":"o1","reason":null,"total_amount":"9.00","signature":null}`; err != nil || string(got) != want {
		t.Errorf("got %s, %v; want %s", got, err, want)
	}
}

func TestMembersAreRewrittenInPlaceAndTheRestKeepsItsBytes(t *testing.T) {
	for _, c := range []struct{ data, want string }{
		// PostgreSQL's text of jsonb, a name written with an escape
		{`{"a": 1, "reason": "x", "sh\u0069pping_address": {"n": [1, "}"]}, "z": "\""}`,
			`{"a": 1, "reason": null, "sh\u0069pping_address": null, "z": "\""}`},
		// members added where absent, after the others
		{`{"a":1}`, `{"a":1,"shipping_address":null,"reason":null}`},
		{` { } `, `{ "shipping_address":null,"reason":null}`},
	} {
		// When the personal members are nulled
		got, err := NullMembers([]byte(c.data), []string{"shipping_address", "reason"})

		// Then they alone changed
		if err != nil || string(got) != c.want {
			t.Errorf("NullMembers(%s) = %s, %v; want %s", c.data, got, err, c.want)
		}
	}
	// And what is not one JSON object with distinct names is refused
	for _, bad := range []string{`[1]`, `{"reason":1,"reason":2}`, `{"reason":`, "{\"a\":\"\xff\"}"} {
		if got, err := NullMembers([]byte(bad), []string{"reason"}); err == nil {
			t.Errorf("NullMembers(%q) = %s, want an error", bad, got)
		}
	}
}

func TestTextLooksSealedWhereItsBase64Decodes(t *testing.T) {
	id := uuid.NewString()
	for _, body := range []string{"", "QQ", "QUI", "QUJD", "QUJDRA", "QU\nJD\r", "a+/9", "QUJDR", "QUJD=", "QUJD RA", "QU-J", "é"} {
		_, err := b64.DecodeString(body)
		if got := LooksSealed(id + "." + body); got != (err == nil) {
			t.Errorf("LooksSealed(%q) = %t, base64 decodes it: %v", body, got, err)
		}
	}
	if LooksSealed("Ada Lovelace") || LooksSealed(id+"QUJD") {
		t.Error("text without a key id looks sealed")
	}
}

// sameJSON reports whether a and b are the same JSON value.
func sameJSON(t *testing.T, a, b []byte) bool {
	t.Helper()
	var va, vb any
	if err := json.Unmarshal(a, &va); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &vb); err != nil {
		t.Fatal(err)
	}
	return reflect.DeepEqual(va, vb)
}

func TestAMasterKeyWrapsDataKeysForTheirRowOnly(t *testing.T) {
	// Given a master key and a data key wrapped for its row
	raw := make([]byte, MasterKeySize)
	rand.Read(raw)
	m, err := NewFileMasterKey(raw)
	if err != nil {
		t.Fatal(err)
	}
	dk := []byte(strings.Repeat("k", DataKeySize))
	id, customer := uuid.New(), uuid.New()
	wrapped, _ := m.Wrap(t.Context(), dk, wrapAAD(id, customer))

	// Then it unwraps for that row, not for another
	if got, err := m.Unwrap(t.Context(), wrapped, wrapAAD(id, customer)); err != nil || !bytes.Equal(got, dk) {
		t.Fatalf("unwrap: %v", err)
	}
	if _, err := m.Unwrap(t.Context(), wrapped, wrapAAD(id, uuid.New())); err == nil {
		t.Error("unwrapped for another customer")
	}
	// And the key's id does not reveal the key, yet is the same for the same key
	m2, _ := NewFileMasterKey(raw)
	if m.ID() != m2.ID() || strings.Contains(m.ID(), string(raw[:4])) || !strings.HasPrefix(m.ID(), "file:") {
		t.Errorf("ids %q, %q", m.ID(), m2.ID())
	}
}
