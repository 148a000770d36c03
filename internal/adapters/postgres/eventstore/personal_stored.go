package eventstore

import (
	"fmt"
	"slices"

	"github.com/go-json-experiment/json/jsontext"
	"github.com/orderapi/orderapi/internal/adapters/personaldata"
	"github.com/orderapi/orderapi/internal/adapters/postgres/codec"
	"github.com/orderapi/orderapi/internal/app"
)

// asStored returns r, read from st, with the personal members of its data
// as st keeps them (app.FeedQuery.Sealed): sealed text, or absent where
// st has none; Sealed when any is sealed text. The rest of its data is
// r's, in its type's current shape. What st keeps never changes, so an
// event reads so the same before its customer's erasure and after it,
// then marked Erased. An event stored in clear, or unreadable, is r.
func asStored(r app.RecordedEvent, st *StoredEvent) (app.RecordedEvent, error) {
	if !st.PersonalKey.Valid || r.Unreadable {
		return r, nil
	}
	storedFields := codec.PersonalFields(st.Type, st.SchemaVersion)
	stored, err := personaldata.Members(st.Data, storedFields)
	if err != nil {
		return r, fmt.Errorf("event %d of order %s: %w", st.Version, st.OrderID, err)
	}
	// An upcast that renamed, added or dropped a personal member would
	// leave stored text that cannot stand for what the current shape
	// holds: refused, never guessed.
	unlike := func(name string) error {
		return fmt.Errorf("personal data stored as %s v%d cannot be given sealed as %s v%d: member %s",
			st.Type, st.SchemaVersion, r.Type, r.SchemaVersion, name)
	}
	placed := map[string]bool{}
	data, err := personaldata.ReplaceMembers(r.Data, codec.PersonalFields(r.Type, r.SchemaVersion),
		func(name string, _ jsontext.Value) (jsontext.Value, error) {
			if !slices.Contains(storedFields, name) {
				return nil, unlike(name)
			}
			v, ok := stored[name]
			placed[name] = ok
			return v, nil
		})
	if err != nil {
		return r, fmt.Errorf("event %d of order %s: %w", st.Version, st.OrderID, err)
	}
	for name, v := range stored {
		if !placed[name] && v.Kind() != 'n' {
			return r, fmt.Errorf("event %d of order %s: %w", st.Version, st.OrderID, unlike(name))
		}
		r.Sealed = r.Sealed || v.Kind() == '"'
	}
	r.Data = data
	return r, nil
}
