// Package snapshot encodes an order's state as a stored snapshot and
// computes the fingerprint under which a build stores and trusts them. It
// needs no database. See docs/design.md, "Snapshots and their
// fingerprints".
package snapshot
