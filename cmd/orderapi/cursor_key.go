package main

import (
	"context"
	"crypto/rand"
	"errors"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/orderapi/orderapi/internal/adapters/cursor"
	"github.com/orderapi/orderapi/internal/adapters/postgres/secrets"
	"github.com/rs/zerolog"
)

// cursorKey names the secret that signs the API's cursors.
const cursorKey = "cursor_signing_key"

// cursorKeyRetry is how often a replica without the database's cursor key
// looks for it again.
const cursorKeyRetry = 5 * time.Second

// cursorSigner signs cursors with the database's key, which the first
// replica to start on it makes: every replica on one database takes the
// others' cursors, and no other database's.
//
// A database that has no key yet and takes no writes (a read-only one, or
// a standby of a primary no replica has served) cannot be given one now.
// The replica then signs with a random key of its own, which only it
// takes, and returns a worker that adopts the database's key once there
// is one: until then, a cursor given by this replica is refused by the
// others, never a foreign one taken.
func cursorSigner(ctx context.Context, pool *pgxpool.Pool, log zerolog.Logger) (*cursor.Signer, runner, error) {
	key, err := secrets.Load(ctx, pool, cursorKey, cursor.KeySize)
	if err == nil {
		s, err := cursor.NewSigner(key)
		return s, nil, err
	}
	if !errors.Is(err, secrets.ErrReadOnly) {
		return nil, nil, err
	}
	log.Warn().Err(err).Msg("the database has no cursor key and takes no writes: cursors are signed with this replica's own key until it does")
	own := make([]byte, cursor.KeySize)
	_, _ = rand.Read(own) // never fails: crypto/rand panics instead
	s, err := cursor.NewSigner(own)
	if err != nil {
		return nil, nil, err
	}
	return s, runFunc(func(ctx context.Context) error {
		for {
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(cursorKeyRetry):
			}
			key, err := secrets.Load(ctx, pool, cursorKey, cursor.KeySize)
			if err != nil {
				continue
			}
			if err := s.Rekey(key); err != nil {
				return err
			}
			log.Info().Msg("cursors are signed with the database's key")
			return nil
		}
	}), nil
}
