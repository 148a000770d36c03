package eventstore

import (
	"github.com/orderapi/orderapi/internal/adapters/postgres/codec"
	"github.com/orderapi/orderapi/internal/app"
	"github.com/orderapi/orderapi/internal/domain/customer"
	"github.com/orderapi/orderapi/internal/domain/order"
)

// The events of a customer's stream (customer.StreamID) share the events
// table and the global feed with the orders'. The feed shows them, in the
// current shape of their type; nothing folds an order from them, and the
// readers of orders never ask for such a stream (order.IsOrderID).

// DecodeCustomer decodes a customer's event as every reader does: its
// data by the codec, its envelope's times held to the domain's bounds.
// It fails with an *app.UnreadableEventError naming the event.
func (st *StoredEvent) DecodeCustomer(c *codec.Codec) (customer.Event, error) {
	return decodeStored(st, st.Data, nil, c.DecodeCustomer)
}

// decodeStored decodes data, st's data as a reader gets it (opened or
// withheld; err is the failure to get it), with decode, an order's event
// or a customer's, and holds its envelope's times to the domain's bounds;
// it fails with an *app.UnreadableEventError naming the event.
func decodeStored[E any](st *StoredEvent, data []byte, err error, decode func(string, int, []byte) (E, error)) (E, error) {
	var e E
	if err == nil {
		e, err = decode(st.Type, st.SchemaVersion, data)
	}
	// A fold reads no recorded_at.
	if err == nil && !(order.InTimeBounds(st.OccurredAt) && (st.RecordedAt.IsZero() || order.InTimeBounds(st.RecordedAt))) {
		err = errTimeOutOfBounds
	}
	if err != nil {
		var none E
		return none, &app.UnreadableEventError{OrderID: st.OrderID, Version: st.Version, EventID: st.EventID,
			Position: st.Position, Type: st.Type, SchemaVersion: st.SchemaVersion, Err: err}
	}
	return e, nil
}

// readable checks that readers decode the event, an order's or a
// customer's, failing as Decode does.
func (st *StoredEvent) readable(c *codec.Codec) error {
	var err error
	if c.IsCustomerEvent(st.Type) {
		_, err = st.DecodeCustomer(c)
	} else {
		_, err = st.Decode(c)
	}
	return err
}

// customerRecorded is recorded for a customer's event r read as st: its
// data in the current shape of its type, or as stored, Unreadable, when
// this build cannot decode it.
func (s *Store) customerRecorded(r app.RecordedEvent, st StoredEvent) app.RecordedEvent {
	e, err := st.DecodeCustomer(s.codec)
	if err == nil {
		r.SchemaVersion, r.Data, err = s.codec.EncodeCustomer(e)
	}
	if err != nil {
		s.unreadable.Add(1)
		r.Type, r.SchemaVersion, r.Data, r.Unreadable = st.Type, st.SchemaVersion, st.Data, true
		r.OccurredAt, r.RecordedAt = order.ClampTime(r.OccurredAt), order.ClampTime(r.RecordedAt)
	}
	return r
}
