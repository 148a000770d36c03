package secrets_test

import (
	"bytes"
	"context"
	"errors"
	"sync"
	"testing"

	"github.com/orderapi/orderapi/internal/adapters/postgres/pgtest"
	"github.com/orderapi/orderapi/internal/adapters/postgres/secrets"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// TestReplicasShareOneSecret: replicas that start at once on a database
// without the secret all end up with the same one, which later starts
// read again.
func TestReplicasShareOneSecret(t *testing.T) {
	t.Parallel()
	pool := pgtest.New(t)
	ctx := context.Background()
	// When eight replicas load the secret at once
	got := make([][]byte, 8)
	errs := make([]error, len(got))
	var wg sync.WaitGroup
	for i := range got {
		wg.Go(func() { got[i], errs[i] = secrets.Load(ctx, pool, "k", 32) })
	}
	wg.Wait()
	// Then each has the same 32 bytes, not all zero
	for i := range got {
		if errs[i] != nil || len(got[i]) != 32 || !bytes.Equal(got[i], got[0]) {
			t.Fatalf("replica %d: %x, %v; replica 0: %x", i, got[i], errs[i], got[0])
		}
	}
	if bytes.Equal(got[0], make([]byte, 32)) {
		t.Error("the secret is all zero")
	}
	// And a later start reads it again
	again, err := secrets.Load(ctx, pool, "k", 32)
	if err != nil || !bytes.Equal(again, got[0]) {
		t.Errorf("later start: %x, %v", again, err)
	}
}

// TestDatabasesHaveTheirOwnSecrets: two databases, even made from one
// template, get different secrets, and different names different ones.
func TestDatabasesHaveTheirOwnSecrets(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	one, other := pgtest.New(t), pgtest.New(t)
	a, errA := secrets.Load(ctx, one, "k", 32)
	b, errB := secrets.Load(ctx, other, "k", 32)
	c, errC := secrets.Load(ctx, one, "other", 32)
	if errA != nil || errB != nil || errC != nil || bytes.Equal(a, b) || bytes.Equal(a, c) {
		t.Errorf("one %x (%v), other %x (%v), another name %x (%v)", a, errA, b, errB, c, errC)
	}
}

// TestSecretOfAnotherSizeIsRefused: a stored secret that is not what this
// build wants stops it rather than being stretched or cut.
func TestSecretOfAnotherSizeIsRefused(t *testing.T) {
	t.Parallel()
	pool := pgtest.New(t)
	ctx := context.Background()
	if _, err := secrets.Load(ctx, pool, "k", 16); err != nil {
		t.Fatal(err)
	}
	if v, err := secrets.Load(ctx, pool, "k", 32); err == nil {
		t.Errorf("a 16-byte secret was taken for 32 bytes: %x", v)
	}
}

// TestAReadOnlyDatabaseWithoutTheSecretSaysSo: none can be made, and the
// error says why rather than carry a bare SQL error.
func TestAReadOnlyDatabaseWithoutTheSecretSaysSo(t *testing.T) {
	t.Parallel()
	// Given a database that takes no writes in this session
	pool := pgtest.New(t)
	ctx := context.Background()
	conn, err := pool.Acquire(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Release()
	if _, err := conn.Exec(ctx, "SET default_transaction_read_only = on"); err != nil {
		t.Fatal(err)
	}
	defer conn.Exec(ctx, "RESET default_transaction_read_only")
	// When a secret it does not hold is loaded
	_, err = secrets.Load(ctx, conn, "k", 32)
	// Then the error says it cannot be made now
	if !errors.Is(err, secrets.ErrReadOnly) {
		t.Fatalf("Load = %v, want ErrReadOnly", err)
	}
}
