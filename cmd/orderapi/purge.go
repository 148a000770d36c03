package main

import (
	"context"
	"time"

	"github.com/rs/zerolog"
)

const (
	// idempotencyPurgeEvery is how often expired idempotency keys are
	// purged. An expired key is treated as new before it is purged, so
	// this only bounds the table's growth.
	idempotencyPurgeEvery = time.Minute
	// idempotencyPurgeBatch bounds each delete, so that a backlog is
	// cleared in short transactions.
	idempotencyPurgeBatch = 500
)

type keyPurger interface {
	PurgeIdempotencyKeys(ctx context.Context, limit int) (int64, error)
}

// purgeIdempotencyKeys returns a background worker that deletes expired
// idempotency keys every interval, batch after batch until none is left.
// A failure is logged and tried again at the next tick.
func purgeIdempotencyKeys(store keyPurger, log zerolog.Logger, every time.Duration) func(context.Context) error {
	return func(ctx context.Context) error {
		tick := time.NewTicker(every)
		defer tick.Stop()
		for {
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-tick.C:
			}
			var total int64
			for {
				n, err := store.PurgeIdempotencyKeys(ctx, idempotencyPurgeBatch)
				total += n
				if err != nil {
					if ctx.Err() == nil {
						log.Warn().Err(err).Msg("purge idempotency keys")
					}
					break
				}
				if n < idempotencyPurgeBatch {
					break
				}
			}
			if total > 0 {
				log.Debug().Int64("purged", total).Msg("purged expired idempotency keys")
			}
		}
	}
}
