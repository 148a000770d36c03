package main

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/orderapi/orderapi/internal/adapters/personaldata"
	"github.com/orderapi/orderapi/internal/adapters/postgres/datakeys"
	"github.com/orderapi/orderapi/internal/adapters/postgres/pgtest"
)

func TestCommandsRefuseToRunWithoutAMasterKey(t *testing.T) {
	t.Parallel()
	// Given an environment that verifies a provider's tokens and names no
	// master key
	url := pgtest.NewURL(t)
	vars := map[string]string{"DATABASE_URL": url, "ORDERAPI_ADDR": "127.0.0.1:0", "LOG_LEVEL": "warn",
		"ORDERAPI_AUTH_JWKS_URL": "http://127.0.0.1:1/jwks", "ORDERAPI_AUTH_ISSUER": "https://id.example", "ORDERAPI_AUTH_AUDIENCE": "orderapi"}
	for _, args := range [][]string{{"serve"}, {"check"}, {"projections", "verify"}, {"keys", "rewrap"}} {
		// When the command runs
		err := run(context.Background(), append([]string{"orderapi"}, args...), env(vars), io.Discard)

		// Then it refuses, saying what to set and how to make a key
		if err == nil || !strings.Contains(err.Error(), "ORDERAPI_MASTER_KEY_FILE is not set") ||
			!strings.Contains(err.Error(), "openssl rand -hex 32") || !strings.Contains(err.Error(), "ORDERAPI_AUTH=dev") {
			t.Errorf("%s: %v, want a refusal naming ORDERAPI_MASTER_KEY_FILE", args, err)
		}
	}
}

func TestAMasterKeyFileOthersMayReadIsRefused(t *testing.T) {
	t.Parallel()
	// Given a master key file anyone may read
	path := masterKeyFile(t, testMasterKey)
	if err := os.Chmod(path, 0o644); err != nil {
		t.Fatal(err)
	}
	vars := map[string]string{"DATABASE_URL": pgtest.NewURL(t), "ORDERAPI_MASTER_KEY_FILE": path}

	// When a command reads it
	err := run(context.Background(), []string{"orderapi", "check"}, env(vars), io.Discard)

	// Then it is refused, and how to fix it is said
	if err == nil || !strings.Contains(err.Error(), "ORDERAPI_MASTER_KEY_FILE") || !strings.Contains(err.Error(), "chmod 600") {
		t.Errorf("check = %v", err)
	}
}

func TestDevelopmentModeMakesTheMasterKeyOnceInItsFolder(t *testing.T) {
	t.Parallel()
	// Given development mode with no master key set
	url := pgtest.NewURL(t)
	vars := devAuth(t, map[string]string{"DATABASE_URL": url, "ORDERAPI_ADDR": "127.0.0.1:0"})
	delete(vars, "ORDERAPI_MASTER_KEY_FILE")
	path := filepath.Join(vars["ORDERAPI_AUTH_DEV_DIR"], personaldata.DevMasterKeyFile)

	// When the service starts
	_, stop := startServerEnv(t, vars, io.Discard)
	if err := stop(); err != nil {
		t.Fatal(err)
	}

	// Then it made a master key in the development folder, for its owner
	// alone
	fi, err := os.Stat(path)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("development master key: %v, %v", fi, err)
	}
	made, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	// And the other commands of development mode use that one
	vars["LOG_LEVEL"] = "warn"
	if err := run(context.Background(), []string{"orderapi", "check"}, env(vars), io.Discard); err != nil {
		t.Fatalf("check: %v", err)
	}
	if again, err := os.ReadFile(path); err != nil || string(again) != string(made) {
		t.Errorf("the key was made again: %v", err)
	}
}

func TestKeysRewrapRotatesTheMasterKey(t *testing.T) {
	t.Parallel()
	// Given data keys wrapped by an old master key
	url := pgtest.NewURL(t)
	oldHex, newHex := strings.Repeat("11", 32), strings.Repeat("22", 32)
	pool, err := pgxpool.New(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	old := fileMasterKey(t, oldHex)
	ids := make([]uuid.UUID, 3)
	for i := range ids {
		k, err := personaldata.NewKeyring(datakeys.New(pool), personaldata.NewMasterKeys(old)).ForSealing(t.Context(), uuid.New())
		if err != nil {
			t.Fatal(err)
		}
		ids[i] = k.ID
	}
	oldFile, newFile := masterKeyFile(t, oldHex), masterKeyFile(t, newHex)
	onlyNew := map[string]string{"DATABASE_URL": url, "LOG_LEVEL": "warn", "ORDERAPI_MASTER_KEY_FILE": newFile}

	// When a command is given only the new master key
	err = run(context.Background(), []string{"orderapi", "check"}, env(onlyNew), io.Discard)
	// Then it refuses, naming the old key and what to set
	if err == nil || !strings.Contains(err.Error(), old.ID()+" (3 data keys)") || !strings.Contains(err.Error(), "ORDERAPI_MASTER_KEY_PREVIOUS_FILES") {
		t.Fatalf("check with the new key alone = %v", err)
	}

	// When keys rewrap runs with the new key and the old one as previous
	rotating := map[string]string{"DATABASE_URL": url, "LOG_LEVEL": "warn", "ORDERAPI_MASTER_KEY_FILE": newFile,
		"ORDERAPI_MASTER_KEY_PREVIOUS_FILES": oldFile}
	var out strings.Builder
	if err := run(context.Background(), []string{"orderapi", "keys", "rewrap"}, env(rotating), &out); err != nil {
		t.Fatal(err)
	}
	// Then it says how many it re-wrapped, and that the old key is free
	if !strings.Contains(out.String(), "re-wrapped 3 data keys") || !strings.Contains(out.String(), "may be emptied") {
		t.Errorf("keys rewrap printed %q", out.String())
	}
	// And the new key alone opens every data key
	if err := run(context.Background(), []string{"orderapi", "check"}, env(onlyNew), io.Discard); err != nil {
		t.Errorf("check with the new key alone after rewrap = %v", err)
	}
	ring := personaldata.NewKeyring(datakeys.New(pool), personaldata.NewMasterKeys(fileMasterKey(t, newHex)))
	for _, id := range ids {
		if _, err := ring.Key(t.Context(), id); err != nil {
			t.Errorf("data key %s: %v", id, err)
		}
	}
	// And a second run has nothing to do
	out.Reset()
	if err := run(context.Background(), []string{"orderapi", "keys", "rewrap"}, env(rotating), &out); err != nil || !strings.Contains(out.String(), "re-wrapped 0 data keys") {
		t.Errorf("second keys rewrap: %q, %v", out.String(), err)
	}
}

func fileMasterKey(t *testing.T, hex string) *personaldata.FileMasterKey {
	t.Helper()
	k, err := personaldata.LoadMasterKeyFile(masterKeyFile(t, hex))
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// TestASecondMasterKeyIsRefusedBeforeAnyDataKeyExists: replicas given
// different master keys would each fail the other's customers; the
// database is bound to the first, even while it holds no data key.
func TestASecondMasterKeyIsRefusedBeforeAnyDataKeyExists(t *testing.T) {
	t.Parallel()
	// Given a database a replica has started on, with no data key yet
	url := pgtest.NewURL(t)
	startServerWith(t, url, withMasterKey(t, nil), io.Discard)

	// When a command runs on it with another master key
	other := withMasterKey(t, map[string]string{"DATABASE_URL": url, "LOG_LEVEL": "warn",
		"ORDERAPI_MASTER_KEY_FILE": masterKeyFile(t, strings.Repeat("ab", 32))})
	err := run(context.Background(), []string{"orderapi", "check"}, env(other), io.Discard)

	// Then it refuses, naming the key the database is bound to
	if err == nil || !strings.Contains(err.Error(), "the database is bound to master key") {
		t.Errorf("check with another master key: %v", err)
	}
}
