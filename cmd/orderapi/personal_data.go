package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/google/uuid"
	"github.com/orderapi/orderapi/internal/adapters/cloudevent"
	"github.com/orderapi/orderapi/internal/adapters/postgres/erasure"
	"github.com/orderapi/orderapi/internal/adapters/postgres/eventstore"
	"github.com/orderapi/orderapi/internal/app"
	"github.com/orderapi/orderapi/internal/domain/customer"
	"github.com/rs/zerolog"
)

const personalDataUsage = `usage: orderapi personal-data reapply [--from FILE]
       orderapi personal-data seal

seal: seals the personal data of the events stored in clear before this
version of orderapi (shipping addresses, signatures, cancellation
reasons), each with its customer's data key, in place: the one change the
events table allows, checked by PostgreSQL, that leaves every other byte
of an event as it was. Run once after upgrading, while the service runs;
then rebuild the read models (orderapi projections rebuild) so that their
rows written before are sealed too. It also deletes the snapshots of
earlier builds, which no replica of this version reads and which, written
before sealing, hold personal data in clear. Running it again does
nothing more.

reapply:
After a database is restored from a backup, applies again every erasure of
personal data: those on record in the database's customer streams, and
those FILE holds (- reads standard input), such as the broker's messages
of erasures made after the backup was taken (nats stream view, nats sub
--raw) or pages of GET /v1/events?type=CustomerPersonalDataErased from
another copy: JSON values one after another, each a message, a feed event
or a feed page; other events are skipped. Each erasure destroys exactly
the keys it destroyed the first time (its data_keys) that the restore
brought back, and is recorded anew; the customer's other keys, for personal
data it gave later, are kept. Running it again does nothing more.
`

// runPersonalData runs `orderapi personal-data reapply|seal`.
func runPersonalData(ctx context.Context, cfg config, log zerolog.Logger, args []string, stdout io.Writer) error {
	if len(args) == 1 && args[0] == "seal" {
		return runSealClearEvents(ctx, cfg, log, stdout)
	}
	if len(args) == 0 || args[0] != "reapply" {
		return fmt.Errorf("personal-data: want reapply or seal\n%s", personalDataUsage)
	}
	fs := flag.NewFlagSet("orderapi personal-data reapply", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	from := fs.String("from", "", "")
	if err := fs.Parse(args[1:]); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			_, err = io.WriteString(stdout, personalDataUsage)
			return err
		}
		return fmt.Errorf("%w\n%s", err, personalDataUsage)
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q\n%s", fs.Arg(0), personalDataUsage)
	}
	var given []erasure.Erased
	if *from != "" {
		var err error
		if given, err = readErasuresFile(*from); err != nil {
			return err
		}
	}
	pool, keyring, err := openKeyed(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer pool.Close()
	store := erasure.New(eventstore.New(pool, eventstore.Config{DefaultCurrency: cfg.DefaultCurrency, Keyring: keyring}), erasure.Config{})
	recorded, err := store.Recorded(ctx)
	if err != nil {
		return err
	}
	all := distinctErasures(append(recorded, given...))
	run, err := uuid.NewV7()
	if err != nil {
		return err
	}
	rep, err := store.Reapply(ctx, all, app.Metadata{CorrelationID: run.String(),
		Principal: app.Principal{Subject: "orderapi personal-data reapply"}})
	if err != nil {
		return fmt.Errorf("personal-data reapply: after %d of %d erasures: %w", rep.Erasures, len(all), err)
	}
	fmt.Fprintf(stdout, "applied %d erasures again (%d on record here, %d from --from): %d found keys to destroy, each recorded anew\n",
		rep.Erasures, len(recorded), len(given), rep.Destroyed)
	return nil
}

// distinctErasures drops the erasures given twice (by event id, or by
// customer and time), keeping the first.
func distinctErasures(all []erasure.Erased) []erasure.Erased {
	type key struct {
		customer uuid.UUID
		at       time.Time
	}
	seenID, seen := map[uuid.UUID]bool{}, map[key]bool{}
	out := all[:0:0]
	for _, e := range all {
		k := key{e.CustomerID, e.At.UTC()}
		if seen[k] || e.EventID != uuid.Nil && seenID[e.EventID] {
			continue
		}
		seen[k], seenID[e.EventID] = true, true
		out = append(out, e)
	}
	return out
}

// erasureJSON is what an erasure looks like in a file: a broker message
// (a CloudEvent: id, type, time, data), a feed event (event_id, type,
// occurred_at, data), or a feed page holding feed events.
type erasureJSON struct {
	Type       string `json:"type"`
	ID         string `json:"id"`
	EventID    string `json:"event_id"`
	Time       string `json:"time"`
	OccurredAt string `json:"occurred_at"`
	Data       struct {
		CustomerID string   `json:"customer_id"`
		DataKeys   []string `json:"data_keys"`
	} `json:"data"`
	Events []json.RawMessage `json:"events"`
}

// readErasuresFile reads the erasures of a file (- for standard input).
func readErasuresFile(path string) ([]erasure.Erased, error) {
	r := io.Reader(os.Stdin)
	if path != "-" {
		f, err := os.Open(path)
		if err != nil {
			return nil, fmt.Errorf("--from: %w", err)
		}
		defer f.Close()
		r = f
	}
	erasures, err := readErasures(r)
	if err != nil {
		return nil, fmt.Errorf("--from %s: %w", path, err)
	}
	return erasures, nil
}

// readErasures reads JSON values one after another and returns the
// erasures among them.
func readErasures(r io.Reader) ([]erasure.Erased, error) {
	cloudType, err := cloudevent.Type(customer.TypePersonalDataErased, 1)
	if err != nil {
		return nil, err
	}
	var out []erasure.Erased
	var add func(raw json.RawMessage, n int) error
	add = func(raw json.RawMessage, n int) error {
		var v erasureJSON
		if err := json.Unmarshal(raw, &v); err != nil {
			return fmt.Errorf("value %d: %w", n, err)
		}
		for _, e := range v.Events {
			if err := add(e, n); err != nil {
				return err
			}
		}
		id, at := v.EventID, v.OccurredAt
		switch v.Type {
		case cloudType:
			id, at = v.ID, v.Time
		case customer.TypePersonalDataErased:
		default:
			return nil
		}
		var e erasure.Erased
		var errs []error
		if e.CustomerID, err = uuid.Parse(v.Data.CustomerID); err != nil || e.CustomerID == uuid.Nil {
			errs = append(errs, fmt.Errorf("data.customer_id %q is not a customer's id", v.Data.CustomerID))
		}
		if e.At, err = time.Parse(time.RFC3339Nano, at); err != nil {
			errs = append(errs, fmt.Errorf("time %q: %w", at, err))
		}
		if v.Data.DataKeys == nil {
			errs = append(errs, errors.New("data.data_keys is missing"))
		}
		for _, k := range v.Data.DataKeys {
			id, err := uuid.Parse(k)
			if err != nil {
				errs = append(errs, fmt.Errorf("data.data_keys: %q is not a key's id", k))
			}
			e.DataKeys = append(e.DataKeys, id)
		}
		e.EventID, _ = uuid.Parse(id)
		if err := errors.Join(errs...); err != nil {
			return fmt.Errorf("value %d, an erasure: %w", n, err)
		}
		out = append(out, e)
		return nil
	}
	dec := json.NewDecoder(r)
	for n := 1; ; n++ {
		var raw json.RawMessage
		err := dec.Decode(&raw)
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return nil, fmt.Errorf("value %d: %w", n, err)
		}
		if err := add(raw, n); err != nil {
			return nil, err
		}
	}
}

// sealBatch is how many events `personal-data seal` seals per
// transaction: short transactions, so that appends and erasures wait
// little for the key rows they lock.
const sealBatch = 500

// runSealClearEvents runs `orderapi personal-data seal`.
func runSealClearEvents(ctx context.Context, cfg config, log zerolog.Logger, stdout io.Writer) error {
	pool, keyring, err := openKeyed(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer pool.Close()
	store := eventstore.New(pool, eventstore.Config{DefaultCurrency: cfg.DefaultCurrency, Keyring: keyring})
	n, err := store.SealClearEvents(ctx, sealBatch)
	if err != nil {
		return fmt.Errorf("personal-data seal: after %d events: %w", n, err)
	}
	if _, err := fmt.Fprintf(stdout, "sealed the personal data of %d events stored in clear\n", n); err != nil {
		return err
	}
	// Snapshots of earlier builds are never read again, and those written
	// before sealing hold personal data in clear.
	gone, err := store.DeleteForeignSnapshots(ctx, sealBatch)
	if err != nil {
		return fmt.Errorf("personal-data seal: after %d snapshots of earlier builds: %w", gone, err)
	}
	_, err = fmt.Fprintf(stdout, "deleted %d snapshots of earlier builds\n", gone)
	return err
}
