package schema

import (
	"context"
	"io/fs"

	"github.com/jackc/pgx/v5/pgxpool"
)

// MigrateFS is Migrate with the migrations of fsys, for tests that need a
// migration of their own.
func MigrateFS(ctx context.Context, pool *pgxpool.Pool, fsys fs.FS, cfg Config) error {
	return migrate(ctx, pool, fsys, cfg)
}
