package postgres

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"

	"github.com/orderapi/orderapi/internal/app"
	"github.com/orderapi/orderapi/internal/domain/order"
)

// Codec turns domain events into the versioned JSON stored in the events
// table and back. It is an explicit table: one encoder per event type,
// writing that type's current schema version, and one decoder per (type,
// schema version) ever written. When a shape changes, the type's encoder
// moves to the new version and the old version keeps a decoder that
// upcasts: stored events are never rewritten.
type Codec struct {
	encoders map[string]encoder
	decoders map[schemaKey]decodeFunc
}

// schemaKey names one stored shape: an event type at a schema version.
type schemaKey struct {
	eventType string
	version   int
}

// encoder writes one event type in its current schema version.
type encoder struct {
	version int
	encode  func(order.Event) ([]byte, error)
}

// decodeFunc reads one stored shape into the current domain event.
type decodeFunc func(data []byte) (order.Event, error)

// NewCodec returns the codec of every event type orderapi has stored.
func NewCodec() *Codec {
	return &Codec{
		encoders: map[string]encoder{
			order.TypeCreated:     {1, encodeAs(createdToJSON)},
			order.TypeItemAdded:   {1, encodeAs(itemAddedToJSON)},
			order.TypeItemRemoved: {1, encodeAs(itemRemovedToJSON)},
			order.TypePlaced:      {1, encodeAs(placedToJSON)},
			order.TypeShipped:     {1, encodeAs(shippedToJSON)},
			order.TypeDelivered:   {1, encodeAs(deliveredToJSON)},
			order.TypeCancelled:   {1, encodeAs(cancelledToJSON)},
		},
		decoders: map[schemaKey]decodeFunc{
			{order.TypeCreated, 1}:     decodeAs(createdFromJSON),
			{order.TypeItemAdded, 1}:   decodeAs(itemAddedFromJSON),
			{order.TypeItemRemoved, 1}: decodeAs(itemRemovedFromJSON),
			{order.TypePlaced, 1}:      decodeAs(placedFromJSON),
			{order.TypeShipped, 1}:     decodeAs(shippedFromJSON),
			{order.TypeDelivered, 1}:   decodeAs(deliveredFromJSON),
			{order.TypeCancelled, 1}:   decodeAs(cancelledFromJSON),
		},
	}
}

// Encode returns the event's data in its type's current schema version.
func (c *Codec) Encode(e order.Event) (schemaVersion int, data []byte, err error) {
	if e == nil {
		return 0, nil, fmt.Errorf("encode event: nil event")
	}
	enc, ok := c.encoders[e.EventType()]
	if !ok {
		return 0, nil, fmt.Errorf("encode event: no encoder for type %q", e.EventType())
	}
	data, err = enc.encode(e)
	if err != nil {
		return 0, nil, fmt.Errorf("encode %s v%d: %w", e.EventType(), enc.version, err)
	}
	return enc.version, data, nil
}

// Decode reads stored data of the given type and schema version.
func (c *Codec) Decode(eventType string, schemaVersion int, data []byte) (order.Event, error) {
	dec, ok := c.decoders[schemaKey{eventType, schemaVersion}]
	if !ok {
		return nil, fmt.Errorf("decode event: unknown event type %q at schema version %d", eventType, schemaVersion)
	}
	e, err := dec(data)
	if err != nil {
		return nil, fmt.Errorf("decode %s v%d: %w", eventType, schemaVersion, err)
	}
	return e, nil
}

// encodeAs adapts a typed converter to the table's encoder shape. The type
// assertion only fails if the table pairs a type name with the wrong
// converter, which the codec's round-trip test catches.
func encodeAs[E order.Event, J any](toJSON func(E) J) func(order.Event) ([]byte, error) {
	return func(e order.Event) ([]byte, error) {
		typed, ok := e.(E)
		if !ok {
			return nil, fmt.Errorf("encoder got %T", e)
		}
		return json.Marshal(toJSON(typed))
	}
}

// decodeAs adapts a typed converter to the table's decoder shape.
func decodeAs[J any](fromJSON func(J) (order.Event, error)) decodeFunc {
	return func(data []byte) (order.Event, error) {
		var j J
		if err := unmarshalStrict(data, &j); err != nil {
			return nil, err
		}
		return fromJSON(j)
	}
}

// unmarshalStrict refuses unknown fields and trailing data: a stored event
// that does not match its declared shape is a bug to surface, not to guess
// around.
func unmarshalStrict(data []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if _, err := dec.Token(); err != io.EOF {
		return fmt.Errorf("trailing data after JSON value")
	}
	return nil
}

// metadataJSON is the stored shape of app.Metadata.
type metadataJSON struct {
	RequestID     string `json:"request_id,omitempty"`
	CorrelationID string `json:"correlation_id,omitempty"`
	CausationID   string `json:"causation_id,omitempty"`
	Actor         string `json:"actor,omitempty"`
}

// EncodeMetadata returns the stored JSON of an event's metadata.
func (c *Codec) EncodeMetadata(m app.Metadata) ([]byte, error) {
	data, err := json.Marshal(metadataJSON(m))
	if err != nil {
		return nil, fmt.Errorf("encode metadata: %w", err)
	}
	return data, nil
}

// DecodeMetadata reads an event's stored metadata. Unknown keys are
// ignored: metadata is an open envelope that other writers may extend.
func (c *Codec) DecodeMetadata(data []byte) (app.Metadata, error) {
	var m metadataJSON
	if err := json.Unmarshal(data, &m); err != nil {
		return app.Metadata{}, fmt.Errorf("decode metadata: %w", err)
	}
	return app.Metadata(m), nil
}
