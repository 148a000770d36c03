// Package projections rebuilds the projections from the event store while
// the service serves (blue/green for the inline ones) and verifies them
// against a replay of every stream. See docs/design.md, "Blue/green
// projection rebuild" and "Projection verification".
package projections
