// Package migrations holds the numbered SQL migrations of the orderapi
// schema, embedded so that the binary migrates its database by itself and
// needs no files beside it at run time.
package migrations

import "embed"

// FS holds every migration file, named NNNNN_description.sql with goose
// annotations. It is read-only, so exporting it shares no mutable state.
//
//go:embed *.sql
var FS embed.FS
