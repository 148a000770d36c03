package eventstore

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	"github.com/go-json-experiment/json/jsontext"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/orderapi/orderapi/internal/adapters/personaldata"
	"github.com/orderapi/orderapi/internal/adapters/postgres/codec"
	"github.com/orderapi/orderapi/internal/adapters/postgres/snapshot"
	"github.com/orderapi/orderapi/internal/domain/order"
)

// Personal data is sealed with its customer's data key wherever the store
// writes it: the personal members of an event's data (the event names its
// key in personal_key), the personal columns of its order_details row,
// and the personal members of a snapshot's state (each sealed value names
// its key). Reading opens them; where a key was destroyed, they read as
// erased. See personaldata and docs/design.md, "Personal data".
//
// A value derived from events (a read model's column, a snapshot's
// member) is sealed with the key of the event that recorded it, never
// with a key made since: a state read before an erasure and written after
// it must not bring the erased value back under the customer's new key.
// So an append writes only the personal columns of the events it records
// (the others stay as they are), and a fold keeps, per personal field,
// the key of the event it came from (personalKeys).

// Kinds of record, in the associated data of sealed values.
const (
	placeEvent    = "event"
	placeDetails  = "order_details"
	placeSnapshot = "snapshot"
)

// errNoKeyring: a row holds sealed personal data and the store was given
// no keyring to open it with.
var errNoKeyring = errors.New("personal data is sealed and this store has no keyring (no master key)")

// sqlstateKeyDestroyed is events_check_personal_key's refusal of an event
// sealed with a key that is no longer live.
const sqlstateKeyDestroyed = "OAKEY"

// placeOf returns the associated data of each field of one record.
func placeOf(kind, record string) func(field string) string {
	return func(field string) string { return personaldata.Place(kind, record, field) }
}

// stateFields are the personal fields of an order's state, by their names
// in order_details and in snapshots alike.
var stateFields = snapshot.PersonalFields

// Indexes of stateFields.
const (
	fieldAddress = iota
	fieldSignature
	fieldReason
)

// stateField is the personal field of the state that e sets; -1 for an
// event that sets none.
func stateField(e order.Event) int {
	switch e.(type) {
	case order.Placed:
		return fieldAddress
	case order.Delivered:
		return fieldSignature
	case order.Cancelled:
		return fieldReason
	}
	return -1
}

// personalKeys are, per personal field of a state (by index of
// stateFields), the key that sealed the event it came from; zero where
// the field is empty, was erased, or came from an event stored in clear.
type personalKeys [3]uuid.UUID

// track records the key of st, just applied as e.
func (k *personalKeys) track(e order.Event, st *StoredEvent) {
	i := stateField(e)
	if i < 0 {
		return
	}
	k[i] = uuid.Nil
	if st.PersonalKey.Valid && !order.IsErased(e) {
		k[i] = st.PersonalKey.Bytes
	}
}

// keyFor returns the key that seals field i of a state of the customer:
// the key its event was sealed with, or, for a value that came from an
// event stored in clear, the customer's live key. nil (and no error) if
// that key has been destroyed since: the value is erased.
func (s *Store) keyFor(ctx context.Context, customerID uuid.UUID, keys personalKeys, i int) (*personaldata.DataKey, error) {
	if keys[i] == uuid.Nil {
		return s.keys.ForSealing(ctx, customerID)
	}
	k, err := s.keys.Key(ctx, keys[i])
	if errors.Is(err, personaldata.ErrErased) {
		return nil, nil
	}
	return k, err
}

// sealEvent seals the personal members of an event's data, as encoded at
// its type's current schema version, with k; key is k's id when any was
// sealed. Without a keyring (k nil) the data stays as it is.
func sealEvent(k *personaldata.DataKey, eventID uuid.UUID, sc codec.Schema, data []byte) (_ []byte, key pgtype.UUID, err error) {
	fields := codec.PersonalFields(sc.EventType, sc.Version)
	if k == nil || len(fields) == 0 {
		return data, pgtype.UUID{}, nil
	}
	out, sealed, err := personaldata.SealMembers(data, fields, func(string) (*personaldata.DataKey, error) { return k, nil },
		placeOf(placeEvent, eventID.String()))
	if err != nil || !sealed {
		return data, pgtype.UUID{}, err
	}
	return out, pgtype.UUID{Bytes: k.ID, Valid: true}, nil
}

// openEvent returns the stored event's data with its personal members
// opened; erased when its key was destroyed, the members then null.
func (s *Store) openEvent(ctx context.Context, st *StoredEvent) (data []byte, erased bool, err error) {
	if !st.PersonalKey.Valid {
		return st.Data, false, nil
	}
	if s.keys == nil {
		return nil, false, errNoKeyring
	}
	fields := codec.PersonalFields(st.Type, st.SchemaVersion)
	if len(fields) == 0 {
		return nil, false, fmt.Errorf("%s v%d has no personal data, yet names key %s: %w",
			st.Type, st.SchemaVersion, uuid.UUID(st.PersonalKey.Bytes), personaldata.ErrNotOpened)
	}
	return s.keys.OpenMembers(ctx, st.Data, fields, placeOf(placeEvent, st.EventID.String()))
}

// snapshotPlace is the associated data of the personal members of a
// snapshot of order id at version.
func snapshotPlace(id uuid.UUID, version int) func(string) string {
	return placeOf(placeSnapshot, id.String()+"@"+strconv.Itoa(version))
}

// encodeSnapshot encodes a state for a snapshot, its personal members
// sealed, each with the key of the event it came from. A field whose key
// was destroyed since the state was read is written as erased, and the
// state with it.
func (s *Store) encodeSnapshot(ctx context.Context, o order.Order, keys personalKeys) ([]byte, error) {
	if s.keys == nil {
		return snapshot.Encode(o)
	}
	sealWith := make(map[string]*personaldata.DataKey, len(stateFields))
	for i, set := range [len(personalKeys{})]bool{o.ShippingAddress != nil, o.Signature != "", o.CancelReason != ""} {
		if !set {
			continue
		}
		k, err := s.keyFor(ctx, o.CustomerID, keys, i)
		if err != nil {
			return nil, err
		}
		if k == nil {
			o = eraseField(o, i)
			continue
		}
		sealWith[stateFields[i]] = k
	}
	data, err := snapshot.Encode(o)
	if err != nil {
		return nil, err
	}
	data, _, err = personaldata.SealMembers(data, stateFields, func(field string) (*personaldata.DataKey, error) {
		return sealWith[field], nil
	}, snapshotPlace(o.ID, o.Version))
	return data, err
}

// eraseField is o with personal field i (of stateFields) erased.
func eraseField(o order.Order, i int) order.Order {
	switch i {
	case fieldAddress:
		o.ShippingAddress = nil
	case fieldSignature:
		o.Signature = ""
	case fieldReason:
		o.CancelReason = ""
	}
	o.Erased = true
	return o
}

// openSnapshot decodes a snapshot's state with its personal members
// opened, and the keys they were sealed with; a member whose key was
// destroyed reads as erased.
func (s *Store) openSnapshot(ctx context.Context, id uuid.UUID, version int, data []byte) (order.Order, personalKeys, error) {
	var keys personalKeys
	if s.keys != nil {
		var err error
		if keys, err = sealedKeys(data); err != nil {
			return order.Order{}, keys, err
		}
		var erased bool
		if data, erased, err = s.keys.OpenMembers(ctx, data, stateFields, snapshotPlace(id, version)); err != nil {
			return order.Order{}, keys, err
		}
		if erased {
			// Decode reads the erased members' nulls as empty.
			o, err := snapshot.Decode(id, version, data)
			o.Erased = true
			return o, keys, err
		}
	}
	o, err := snapshot.Decode(id, version, data)
	return o, keys, err
}

// sealedKeys reads the key each sealed personal member of a state names.
func sealedKeys(data []byte) (personalKeys, error) {
	var keys personalKeys
	_, err := personaldata.SealedKeys(data, stateFields, func(field string, id uuid.UUID) {
		keys[fieldIndex(field)] = id
	})
	return keys, err
}

func fieldIndex(field string) int {
	for i, f := range stateFields {
		if f == field {
			return i
		}
	}
	panic("eventstore: no personal field " + field)
}

// detailsColumnsOf points at the personal columns of a row, by index of
// stateFields. The shipping address is JSON (jsonb); sealed, it is a JSON
// string of the sealed text. The others are text, sealed text as it is.
func detailsColumnsOf(r *DetailsRow) [3]**string {
	return [3]**string{&r.ShippingAddress, &r.Signature, &r.CancelReason}
}

// sealDetails seals the personal columns of a row that are set, each with
// the key keyFor gives its field (nil: destroyed since, and the column is
// written NULL, the row erased).
func sealDetails(r *DetailsRow, keyFor func(i int) (*personaldata.DataKey, error)) error {
	place := placeOf(placeDetails, r.OrderID.String())
	for i, col := range detailsColumnsOf(r) {
		if *col == nil {
			continue
		}
		k, err := keyFor(i)
		if err != nil {
			return fmt.Errorf("seal %s of order %s: %w", stateFields[i], r.OrderID, err)
		}
		if k == nil {
			*col, r.Erased = nil, true
			continue
		}
		sealed := k.Seal([]byte(**col), place(stateFields[i]))
		if i == fieldAddress {
			quoted, _ := jsontext.AppendQuote(nil, sealed)
			sealed = string(quoted)
		}
		*col = &sealed
	}
	return nil
}

// SealDetails seals the personal columns of a row written from r's state
// (a rebuild's), each with the key of the event it came from.
func (s *Store) SealDetails(ctx context.Context, row *DetailsRow, r *Replay) error {
	if s.keys == nil {
		return nil
	}
	return sealDetails(row, func(i int) (*personaldata.DataKey, error) {
		return s.keyFor(ctx, row.CustomerID, r.keys, i)
	})
}

// OpenDetails opens the personal columns of a row as read from the table.
// A column whose key was destroyed becomes nil and the row Erased; a
// column written in clear before sealing (until the read models are
// rebuilt) is left as it is, even one whose text looks sealed, since it
// names no stored key. A store without a keyring (sealing off)
// opens nothing: it serves only a database that holds no data key, where
// every column is in clear, whatever its text looks like.
func (s *Store) OpenDetails(ctx context.Context, r *DetailsRow) error {
	if s.keys == nil {
		return nil
	}
	place := placeOf(placeDetails, r.OrderID.String())
	for i, col := range detailsColumnsOf(r) {
		if *col == nil {
			continue
		}
		text := **col
		if i == fieldAddress {
			if len(text) == 0 || text[0] != '"' {
				continue // an address in clear: a JSON object
			}
			unquoted, err := jsontext.AppendUnquote(nil, text)
			if err != nil {
				return fmt.Errorf("order %s: %s: %w", r.OrderID, stateFields[i], err)
			}
			text = string(unquoted)
		}
		if !personaldata.LooksSealed(text) {
			continue
		}
		plain, err := s.keys.Open(ctx, text, place(stateFields[i]))
		switch {
		case errors.Is(err, personaldata.ErrUnknownKey):
			// Text written in clear before sealing began, that only
			// looks sealed: what this store seals names a stored key.
			continue
		case errors.Is(err, personaldata.ErrErased):
			*col, r.Erased = nil, true
		case err != nil:
			return fmt.Errorf("order %s: %s: %w", r.OrderID, stateFields[i], err)
		default:
			*col = new(string(plain))
		}
	}
	return nil
}
