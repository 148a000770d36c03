package schema

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
)

// CheckEncoding refuses a database whose server encoding is not UTF8.
// Every text the API accepts is Unicode: another encoding stores some of
// it as other characters, and refuses the rest (U+2028 in LATIN1, say)
// with an error at the first command that sends it.
func CheckEncoding(ctx context.Context, db interface {
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}) error {
	var encoding string
	if err := db.QueryRow(ctx, "SHOW server_encoding").Scan(&encoding); err != nil {
		return fmt.Errorf("database encoding: %w", err)
	}
	if encoding != "UTF8" {
		return fmt.Errorf("the database's encoding is %s: orderapi stores Unicode text and needs UTF8 (CREATE DATABASE ... ENCODING 'UTF8' TEMPLATE template0)", encoding)
	}
	return nil
}
