package main

import (
	"context"
	"fmt"
	"io"
	"maps"
	"slices"

	"github.com/orderapi/orderapi/internal/adapters/postgres/datakeys"
	"github.com/rs/zerolog"
)

// runKeys runs `orderapi keys rewrap`: the step of a master-key rotation
// that re-wraps every live data key under the current master key
// (ORDERAPI_MASTER_KEY_FILE), opening each with the previous one that
// wraps it (ORDERAPI_MASTER_KEY_PREVIOUS_FILES). Sealed values are not
// touched: their data keys stay the same. It may run while the service
// serves, and again after an interruption: it re-wraps only what another
// master key still wraps.
func runKeys(ctx context.Context, cfg config, log zerolog.Logger, args []string, stdout io.Writer) error {
	if len(args) != 1 || args[0] != "rewrap" {
		return fmt.Errorf("keys: want rewrap, got %q (try: orderapi help)", args)
	}
	pool, keyring, err := openKeyed(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer pool.Close()
	keys := datakeys.New(pool)
	n, err := keys.Rewrap(ctx, keyring)
	if err != nil {
		return fmt.Errorf("keys rewrap: %d data keys re-wrapped before: %w", n, err)
	}
	fmt.Fprintf(stdout, "re-wrapped %d data keys under master key %s\n", n, keyring.CurrentMasterKeyID())
	wrapped, err := keys.WrappedBy(ctx)
	if err != nil {
		return err
	}
	delete(wrapped, keyring.CurrentMasterKeyID())
	for _, id := range slices.Sorted(maps.Keys(wrapped)) {
		// Made meanwhile by a replica not yet switched to the new key.
		fmt.Fprintf(stdout, "master key %s still wraps %d data keys: run keys rewrap again once every replica has the new key as ORDERAPI_MASTER_KEY_FILE\n", id, wrapped[id])
	}
	if len(wrapped) == 0 {
		if err := keys.Rebind(ctx, keyring.CurrentMasterKeyID()); err != nil {
			return err
		}
		// The previous key still recognises the fingerprints of requests
		// claimed under it: a retry of one is refused without it.
		fmt.Fprintln(stdout, "no data key is wrapped by another master key: ORDERAPI_MASTER_KEY_PREVIOUS_FILES may be emptied "+
			"once the idempotency keys claimed before the rotation have expired (ORDERAPI_IDEMPOTENCY_TTL)")
	}
	return nil
}
