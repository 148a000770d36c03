package natsrelay

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/go-json-experiment/json/jsontext"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/orderapi/orderapi/internal/adapters/cloudevent"
	"github.com/orderapi/orderapi/internal/adapters/personaldata"
	"github.com/orderapi/orderapi/internal/app"
)

// A message already in the stream is compared with the event as it read
// when the message was published, which may be otherwise than it reads
// now in two ways only. Its customer's personal data was erased since:
// the event reads erased, its personal members null (or, read sealed,
// marked erased), where the message carries them. Or the message was
// published in the other form of personal data (Config.SealPersonalData
// changed since); it says which (cloudevent.Published.Sealed). Nothing
// else of the message may differ from what the relay publishes.

// StopPersonalDataInClear: the relay publishes personal data sealed,
// and an event's is stored in clear (from before sealing began); it
// goes on once `orderapi personal-data seal` sealed it.
const StopPersonalDataInClear = "personal_data_in_clear"

// asPublished returns e as it read when m, its message, was published:
// read again in the form of personal data m has, and, where e reads
// erased now and m was published before the erasure, as it read then
// (beforeErasure). A body that is no CloudEvent leaves e as it is, for
// the comparison to find it different.
func (r *Relay) asPublished(ctx context.Context, m *jetstream.RawStreamMsg, e app.RecordedEvent) (app.RecordedEvent, error) {
	p, err := cloudevent.Read(m.Data)
	if err != nil {
		return e, nil
	}
	if p.Sealed != e.Sealed {
		if e, err = r.reread(ctx, e, p.Sealed); err != nil {
			return e, err
		}
	}
	if !e.Erased || p.Erased {
		return e, nil
	}
	return r.beforeErasure(ctx, e, p)
}

// errNotBefore: a message's personal members are not what the event had
// before its erasure.
var errNotBefore = errors.New("not the personal data of before the erasure")

// beforeErasure returns e, erased, as it read before the erasure, with
// p, its message, as the witness of what it held then. Read sealed, it
// is e but not erased: the sealed text is the same before and after.
// Read in clear, it is e with the values p carries in place of the
// nulls, where the store keeps a sealed value (its sealed read tells
// which: a signature the event never had stays absent); each must be
// there and not null. Otherwise it is e itself, which p then differs
// from.
func (r *Relay) beforeErasure(ctx context.Context, e app.RecordedEvent, p cloudevent.Published) (app.RecordedEvent, error) {
	if e.Sealed {
		e.Erased = false
		return e, nil
	}
	sealed, err := r.reread(ctx, e, true)
	if err != nil || !sealed.Sealed {
		return e, err
	}
	fields := r.cfg.PersonalFields(e.Type, e.SchemaVersion)
	values, err := personaldata.Members(p.Data, fields)
	if err != nil {
		return e, nil
	}
	data, err := personaldata.ReplaceMembers(sealed.Data, fields, func(name string, v jsontext.Value) (jsontext.Value, error) {
		clear, ok := values[name]
		if v.Kind() != '"' || !ok || clear.Kind() == 'n' || looksSealed(clear) {
			return nil, errNotBefore
		}
		return clear, nil
	})
	if err != nil {
		return e, nil
	}
	e.Data, e.Erased = data, false
	return e, nil
}

// looksSealed reports whether v is a JSON string of sealed text, which no
// message in clear carries.
func looksSealed(v jsontext.Value) bool {
	var text string
	return v.Kind() == '"' && json.Unmarshal(v, &text) == nil && personaldata.LooksSealed(text)
}

// rereadWait bounds how long reread waits for the feed to show again an
// event it showed.
const rereadWait = 5 * time.Second

// reread reads e from the feed again, its personal data sealed or not.
// The feed showed it, but may hold it back for a moment (its watermark
// dips while another database's transaction ends as it is read): reread
// waits for it, up to rereadWait.
func (r *Relay) reread(ctx context.Context, e app.RecordedEvent, sealed bool) (app.RecordedEvent, error) {
	q := app.FeedQuery{After: app.FeedCursor{TransactionID: e.TransactionID, Position: e.Position - 1}, Limit: 1, Sealed: sealed}
	for deadline := time.Now().Add(rereadWait); ; {
		page, err := r.feed.ReadFeed(ctx, q)
		switch {
		case err != nil:
			return e, fmt.Errorf("read event %s again: %w", e.EventID, err)
		case len(page) > 0 && page[0].EventID == e.EventID:
			return page[0], nil
		case len(page) > 0 || time.Now().After(deadline):
			return e, fmt.Errorf("read event %s again: the feed does not show it at %d/%d", e.EventID, e.TransactionID, e.Position)
		}
		if err := sleep(ctx, 10*time.Millisecond); err != nil {
			return e, err
		}
	}
}

// sealable refuses, while the relay seals personal data, an event whose
// personal data the store gives in clear: it is never published so.
func (r *Relay) sealable(e app.RecordedEvent) error {
	if !r.cfg.SealPersonalData || e.Sealed {
		return nil
	}
	values, err := personaldata.Members(e.Data, r.cfg.PersonalFields(e.Type, e.SchemaVersion))
	if err != nil {
		return fmt.Errorf("event %s: %w", e.EventID, err)
	}
	for _, v := range values {
		if v.Kind() != 'n' {
			return &stopError{code: StopPersonalDataInClear, err: fmt.Errorf(
				"event %s (%s of order %s, position %d) holds personal data stored in clear, from before sealing began, "+
					"and ORDERAPI_NATS_PERSONAL_DATA=sealed publishes none in clear: run `orderapi personal-data seal`; "+
					"the relay goes on by itself once it is sealed", e.EventID, e.Type, e.OrderID, e.Position)}
		}
	}
	return nil
}
