package storetest

import (
	"context"
	"crypto/sha256"
	"errors"
	"testing"
	"time"

	"github.com/orderapi/orderapi/internal/app"
	"github.com/orderapi/orderapi/internal/domain/order"
)

// claim is a key as the Service scopes it, for a request.
func claim(key, request string) app.Idempotency {
	return app.Idempotency{Key: key, Fingerprint: sha256.Sum256([]byte(request))}
}

// claiming makes c claim key for principal, for ttl.
func claiming(c app.Commit, principal, key string, ttl time.Duration) app.Commit {
	c.Idempotency, c.IdempotencyTTL = claim(key, "request of "+principal), ttl
	c.Idempotency.Principal = principal
	return c
}

func lookup(t *testing.T, s app.EventStore, principal, key string) (app.IdempotencyRecord, bool) {
	t.Helper()
	rec, found, err := s.LookupIdempotency(context.Background(), principal, key)
	if err != nil {
		t.Fatalf("look up key %q of %q: %v", key, principal, err)
	}
	return rec, found
}

// wantRecord fails t unless principal's key names the commit c that
// landed at appended.
func wantRecord(t *testing.T, s app.EventStore, principal, key string, c app.Commit, appended app.Appended) {
	t.Helper()
	rec, found := lookup(t, s, principal, key)
	want := app.IdempotencyRecord{Fingerprint: c.Idempotency.Fingerprint, OrderID: c.OrderID,
		Version: c.State.Version, Position: appended.LastPosition}
	if !found || rec != want {
		t.Errorf("key %q of %q: %+v (found %v), want %+v", key, principal, rec, found, want)
	}
}

func claimFound(t *testing.T, s app.EventStore) {
	// Given an order created claiming one key, then changed by a commit
	// of two events claiming another
	create := claiming(creation(t), "alice", "create", time.Hour)
	o, created := mustAppend(t, s, create)
	add := claiming(commitOf(t, o, t0.Add(time.Second), addItem("Mug"), addItem("Tea")), "alice", "add", time.Hour)
	_, added := mustAppend(t, s, add)

	// When the keys are looked up, then each gives its commit's request,
	// order, version after it and last position
	wantRecord(t, s, "alice", "create", create, created)
	wantRecord(t, s, "alice", "add", add, added)
}

func claimMissing(t *testing.T, s app.EventStore) {
	// Given an order created without a key
	create(t, s)
	// When a key is looked up, then it is not found
	if rec, found := lookup(t, s, "alice", "never"); found {
		t.Errorf("a key never claimed: %+v", rec)
	}
	if rec, found := lookup(t, s, "", ""); found {
		t.Errorf("the empty key: %+v", rec)
	}
}

func claimScoped(t *testing.T, s app.EventStore) {
	// Given one key claimed by alice, by bob, and by no principal (""),
	// each creating an order
	var commits []app.Commit
	var appended []app.Appended
	for _, p := range []string{"alice", "bob", ""} {
		c := claiming(creation(t), p, "k", time.Hour)
		_, a := mustAppend(t, s, c)
		commits, appended = append(commits, c), append(appended, a)
	}

	// When each looks it up, then each finds its own claim
	for i, p := range []string{"alice", "bob", ""} {
		wantRecord(t, s, p, "k", commits[i], appended[i])
	}
	// and another principal finds none
	if rec, found := lookup(t, s, "carol", "k"); found {
		t.Errorf("carol found %+v", rec)
	}
}

func claimTaken(t *testing.T, s app.EventStore) {
	ctx := context.Background()
	// Given an order created by alice claiming key k
	first := claiming(creation(t), "alice", "k", time.Hour)
	o, appended := mustAppend(t, s, first)

	for _, c := range []struct {
		name   string
		commit app.Commit
	}{
		{"creating another order", claiming(creation(t), "alice", "k", time.Hour)},
		{"changing the order at its version", claiming(commitOf(t, o, t0.Add(time.Second), addItem("Mug")), "alice", "k", time.Hour)},
	} {
		// When alice claims k again
		_, err := s.Append(ctx, c.commit)

		// Then it is ErrKeyClaimed (not a version conflict), and nothing
		// is written
		if !errors.Is(err, app.ErrKeyClaimed) || errors.Is(err, app.ErrAppendConflict) {
			t.Errorf("%s: %v, want %v only", c.name, err, app.ErrKeyClaimed)
		}
		if c.commit.OrderID != o.ID {
			if _, err := s.Load(ctx, c.commit.OrderID); !errors.Is(err, order.ErrNotFound) {
				t.Errorf("%s: load of the order not created: %v, want %v", c.name, err, order.ErrNotFound)
			}
		}
	}
	sameState(t, mustLoad(t, s, o.ID), o)
	wantRecord(t, s, "alice", "k", first, appended)
}

func claimExpired(t *testing.T, s app.EventStore) {
	// Given an order created claiming a key for a moment, which has passed
	const ttl = 10 * time.Millisecond
	mustAppend(t, s, claiming(creation(t), "alice", "k", ttl))
	time.Sleep(ttl + 50*time.Millisecond)

	// When the key is looked up, then it is not found
	if rec, found := lookup(t, s, "alice", "k"); found {
		t.Errorf("an expired claim: %+v", rec)
	}

	// When another order is created claiming it, then the claim is
	// replaced
	again := claiming(creation(t), "alice", "k", time.Hour)
	again.Idempotency.Fingerprint = sha256.Sum256([]byte("another request"))
	_, appended := mustAppend(t, s, again)
	wantRecord(t, s, "alice", "k", again, appended)
}
