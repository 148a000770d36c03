package snapshot

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"reflect"
	"strings"
	"time"

	"github.com/orderapi/orderapi/internal/adapters/postgres/codec"
	"github.com/orderapi/orderapi/internal/domain/order"
)

// snapshotRevision is raised by hand when the fold changes in a way the
// corpus cannot show (a branch no corpus stream takes), so that snapshots
// written before the change stop being trusted.
//
// 2: personal members are sealed (snapshots of revision 1 hold them in
// clear and are never read again).
const snapshotRevision = 2

// Fingerprint names what a stored snapshot depends on besides the
// events: the snapshot encoding and the fold. It is a SHA-256 over the
// shapes of snapshotJSON and order.Order, the encoded states that folding
// the corpus's stored events gives (through codec, so its decoders,
// upcasters and configured default currency count too), and
// snapshotRevision. Any change that alters a corpus state or the encoding
// therefore changes it by itself, and a build then ignores the snapshots
// other builds wrote.
func Fingerprint(c *codec.Codec) (string, error) {
	states, err := corpusStates(c, (*order.Order).Apply)
	if err != nil {
		return "", fmt.Errorf("snapshot fingerprint: %w", err)
	}
	shape := describeType(reflect.TypeFor[snapshotJSON]()) + describeType(reflect.TypeFor[order.Order]())
	return fingerprintOf(shape, states, snapshotRevision), nil
}

// fingerprintOf hashes the fingerprint's parts, each prefixed with its
// length so that no two lists of parts hash alike.
func fingerprintOf(shape string, states [][]byte, revision int) string {
	h := sha256.New()
	fmt.Fprintf(h, "revision %d\nshape %d\n%s", revision, len(shape), shape)
	for _, st := range states {
		fmt.Fprintf(h, "\nstate %d\n", len(st))
		h.Write(st)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// corpusStates folds every corpus stream with apply and returns the
// encoded state after each event. Each event goes through the codec as a
// stored one would: a domain event is encoded and decoded, older data is
// upcast.
func corpusStates(c *codec.Codec, apply func(*order.Order, order.Event, time.Time)) ([][]byte, error) {
	var states [][]byte
	for i, stream := range snapshotCorpus() {
		var o order.Order
		for j, ce := range stream {
			e, err := ce.decode(c)
			if err != nil {
				return nil, fmt.Errorf("corpus stream %d event %d: %w", i, j, err)
			}
			apply(&o, e, ce.at)
			st, err := Encode(o)
			if err != nil {
				return nil, fmt.Errorf("corpus stream %d event %d: %w", i, j, err)
			}
			states = append(states, st)
		}
	}
	return states, nil
}

// decode returns the event as a replay would see it.
func (ce corpusEvent) decode(c *codec.Codec) (order.Event, error) {
	if ce.event == nil {
		return c.Decode(ce.schema.EventType, ce.schema.Version, []byte(ce.raw))
	}
	v, data, err := c.Encode(ce.event)
	if err != nil {
		return nil, err
	}
	e, err := c.Decode(ce.event.EventType(), v, data)
	if err == nil && order.IsErased(ce.event) {
		// As the store reads an event whose key was destroyed.
		e = order.WithPersonalDataErased(e)
	}
	return e, err
}

// describeType writes out a type's shape: struct fields with their names,
// types and tags, through pointers, slices and arrays, and into the
// structs of this module; other named types (uuid.UUID, time.Time,
// decimal.Decimal) by name, since their encoding is theirs.
func describeType(t reflect.Type) string {
	var b strings.Builder
	describeInto(&b, t)
	return b.String()
}

// describedPath is the package path this package's own types are
// described under: the one they had when stored snapshots were first
// fingerprinted, so that moving the package does not discard them all.
const describedPath = "github.com/orderapi/orderapi/internal/adapters/postgres"

var ownPath = reflect.TypeFor[snapshotJSON]().PkgPath()

// amountDescribedAs is how order.Amount is described: as the type it
// replaced in the state, decimal.Decimal, whose snapshots it writes and
// reads as the same exact text, so that they stay trusted.
const amountDescribedAs = "github.com/shopspring/decimal.Decimal "

func describeInto(w *strings.Builder, t reflect.Type) {
	if t == reflect.TypeFor[order.Amount]() {
		w.WriteString(amountDescribedAs)
		return
	}
	switch {
	case t.Name() == "":
	case t.PkgPath() == "": // predeclared: string, int...
		w.WriteString(t.Name())
		return
	default:
		path := t.PkgPath()
		if path == ownPath {
			path = describedPath
		}
		fmt.Fprintf(w, "%s.%s ", path, t.Name())
		if !strings.HasPrefix(t.PkgPath(), "github.com/orderapi/orderapi/") {
			return
		}
	}
	switch t.Kind() {
	case reflect.Struct:
		w.WriteString("struct {\n")
		for i := range t.NumField() {
			f := t.Field(i)
			fmt.Fprintf(w, "%s %q ", f.Name, f.Tag)
			describeInto(w, f.Type)
			w.WriteString("\n")
		}
		w.WriteString("}")
	case reflect.Pointer:
		w.WriteString("*")
		describeInto(w, t.Elem())
	case reflect.Slice:
		w.WriteString("[]")
		describeInto(w, t.Elem())
	case reflect.Array:
		fmt.Fprintf(w, "[%d]", t.Len())
		describeInto(w, t.Elem())
	case reflect.Map:
		w.WriteString("map[")
		describeInto(w, t.Key())
		w.WriteString("]")
		describeInto(w, t.Elem())
	default:
		w.WriteString(t.Kind().String())
	}
}
