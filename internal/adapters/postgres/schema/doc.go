// Package schema applies orderapi's migrations to a PostgreSQL database
// and tells whether a database is at this build's schema. See
// docs/design.md, "Migrations".
package schema
