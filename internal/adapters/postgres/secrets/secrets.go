// Package secrets keeps the service's own secrets in its database (the
// service_secrets table), so that every replica on one database shares
// them and another database has its own: the key that signs cursors is
// one.
package secrets

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// querier is what Load needs of a pool or a connection.
type querier interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

const (
	selectSQL = `SELECT value FROM service_secrets WHERE name = $1`
	insertSQL = `INSERT INTO service_secrets (name, value) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING`
)

// Load returns the secret called name, size random bytes, making it when
// the database has none yet. Replicas that start at once may each make
// one: the first insert wins, the others' do nothing, and all read the
// winner. A database that has the secret is only read, so a replica of a
// read-only standby starts too.
func Load(ctx context.Context, db querier, name string, size int) ([]byte, error) {
	value, err := read(ctx, db, name)
	if err != nil || value != nil {
		return check(name, value, size, err)
	}
	made := make([]byte, size)
	if _, err := rand.Read(made); err != nil {
		return nil, fmt.Errorf("secret %s: %w", name, err)
	}
	if _, err := db.Exec(ctx, insertSQL, name, made); err != nil {
		if pgErr, ok := errors.AsType[*pgconn.PgError](err); ok && pgErr.Code == sqlstateReadOnly {
			err = fmt.Errorf("%w: %w", ErrReadOnly, err)
		}
		return nil, fmt.Errorf("secret %s: store: %w", name, err)
	}
	value, err = read(ctx, db, name)
	if err == nil && value == nil {
		err = errors.New("missing after it was stored")
	}
	return check(name, value, size, err)
}

// ErrReadOnly is Load's error when the database has no such secret yet
// and takes no writes (it is read-only, or a standby), so none can be
// made now.
var ErrReadOnly = errors.New("the database has none yet and takes no writes")

// sqlstateReadOnly is read_only_sql_transaction.
const sqlstateReadOnly = "25006"

// read returns the stored secret, nil when there is none.
func read(ctx context.Context, db querier, name string) ([]byte, error) {
	var value []byte
	err := db.QueryRow(ctx, selectSQL, name).Scan(&value)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, nil
	}
	return value, err
}

// check refuses a stored secret of another size than this build wants:
// another build's, or one edited by hand.
func check(name string, value []byte, size int, err error) ([]byte, error) {
	switch {
	case err != nil:
		return nil, fmt.Errorf("secret %s: %w", name, err)
	case len(value) != size:
		return nil, fmt.Errorf("secret %s: the database holds %d bytes, not %d", name, len(value), size)
	}
	return value, nil
}
