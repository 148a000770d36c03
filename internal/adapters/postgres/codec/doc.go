// Package codec turns domain events into the versioned JSON stored in the
// events table and back, upcasting older schema versions on the way in.
// It needs no database. See docs/design.md, "Event codec and upcasting".
package codec
