package erasure_test

import (
	"testing"

	"github.com/google/uuid"
	"github.com/orderapi/orderapi/internal/adapters/postgres/erasure"
	"github.com/orderapi/orderapi/internal/adapters/postgres/eventstore/eventstoretest"
	"github.com/orderapi/orderapi/internal/app"
)

func TestReapplyDestroysTheKeysABackupBroughtBack(t *testing.T) {
	t.Parallel()
	// Given a customer erased before a backup who came back afterwards
	// (an hour later), a customer erased after it, and one never erased
	f := newFixture(t)
	erased, returned, kept := uuid.New(), uuid.New(), uuid.New()
	old := f.key(t, erased)
	f.key(t, returned)
	bystander := f.key(t, kept)
	f.erase(t, returned)
	fresh := f.key(t, returned)
	if _, err := f.pool.Exec(t.Context(), `UPDATE customer_data_keys SET created_at = created_at + interval '1 hour' WHERE key_id = $1`, fresh.ID); err != nil {
		t.Fatal(err)
	}
	backup := f.keyRows(t)
	f.erase(t, erased)
	// And the keys table restored from that backup
	f.restore(t, backup)
	if !f.opens(t, old) {
		t.Fatal("the restore did not bring the key back")
	}

	// When the erasures on record are applied again
	recorded, err := f.store.Recorded(t.Context())
	if err != nil || len(recorded) != 2 {
		t.Fatalf("recorded erasures %v, %v", recorded, err)
	}
	operator := app.Metadata{Principal: app.Principal{Subject: "orderapi personal-data reapply"}}
	rep, err := f.store.Reapply(t.Context(), recorded, operator)

	// Then the key the backup brought back is destroyed again, and the
	// re-application is on record
	if err != nil || rep != (erasure.ReapplyReport{Erasures: 2, Destroyed: 1}) {
		t.Errorf("report %+v, %v", rep, err)
	}
	if f.opens(t, old) {
		t.Error("the erased customer's key still opens")
	}
	if recs := f.records(t, erased); len(recs) != 2 {
		t.Errorf("%d records of the erased customer, want 2", len(recs))
	}
	// And what the customers recorded afterwards, and the others, are kept
	if !f.opens(t, fresh) || !f.opens(t, bystander) {
		t.Errorf("new data opens %t, bystander's %t", f.opens(t, fresh), f.opens(t, bystander))
	}
	// And applying them once more does nothing
	recorded, _ = f.store.Recorded(t.Context())
	if rep, err := f.store.Reapply(t.Context(), recorded, operator); err != nil || rep.Destroyed != 0 || rep.Erasures != 3 {
		t.Errorf("again: %+v, %v", rep, err)
	}
}

// keyRow is a row of customer_data_keys as a backup holds it.
type keyRow struct {
	KeyID, CustomerID uuid.UUID
	Wrapped           []byte
	MasterKeyID       *string
}

func (f *fixture) keyRows(t *testing.T) []keyRow {
	t.Helper()
	rows, err := f.pool.Query(t.Context(), `SELECT key_id, customer_id, wrapped_key, master_key_id FROM customer_data_keys`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var all []keyRow
	for rows.Next() {
		var r keyRow
		if err := rows.Scan(&r.KeyID, &r.CustomerID, &r.Wrapped, &r.MasterKeyID); err != nil {
			t.Fatal(err)
		}
		all = append(all, r)
	}
	return all
}

// restore brings back the keys live in rows, as a restore of the backup
// that holds them does.
func (f *fixture) restore(t *testing.T, rows []keyRow) {
	t.Helper()
	for _, r := range rows {
		if r.Wrapped == nil {
			continue
		}
		if _, err := f.pool.Exec(t.Context(), `UPDATE customer_data_keys SET wrapped_key = $2, master_key_id = $3, destroyed_at = NULL
 WHERE key_id = $1`, r.KeyID, r.Wrapped, r.MasterKeyID); err != nil {
			t.Fatal(err)
		}
	}
}

func TestReapplyKeepsAKeyMadeTheMomentAfterTheErasure(t *testing.T) {
	t.Parallel()
	// Given a customer erased, who gave personal data again at once
	f := newFixture(t)
	c := uuid.New()
	old := f.key(t, c)
	f.erase(t, c)
	fresh := f.key(t, c)

	// When the erasures on record are applied again, with nothing restored
	recorded, err := f.store.Recorded(t.Context())
	if err != nil || len(recorded) != 1 || len(recorded[0].DataKeys) != 1 || recorded[0].DataKeys[0] != old.ID {
		t.Fatalf("recorded erasures %+v, %v", recorded, err)
	}
	rep, err := f.store.Reapply(t.Context(), recorded, app.Metadata{Principal: app.Principal{Subject: "orderapi personal-data reapply"}})

	// Then nothing is destroyed or recorded, and the new data still opens
	if err != nil || rep != (erasure.ReapplyReport{Erasures: 1}) {
		t.Errorf("report %+v, %v", rep, err)
	}
	if !f.opens(t, fresh) {
		t.Error("the key made after the erasure was destroyed")
	}
	if recs := f.records(t, c); len(recs) != 1 {
		t.Errorf("%d records, want 1", len(recs))
	}
}

func TestReapplyKeepsTheReadModelOfPersonalDataGivenAfterTheErasure(t *testing.T) {
	t.Parallel()
	// Given a customer erased with an order placed, who placed another
	// afterwards, under a new key
	f := newRaceFixture(t)
	c := uuid.New()
	before := f.placed(t, c)
	if _, err := f.store.ErasePersonalData(t.Context(), erasureOf(c)); err != nil {
		t.Fatal(err)
	}
	after := f.placed(t, c)

	// When the erasures on record are applied again
	recorded, err := f.store.Recorded(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.store.Reapply(t.Context(), recorded, app.Metadata{Principal: app.Principal{Subject: "orderapi personal-data reapply"}}); err != nil {
		t.Fatal(err)
	}

	// Then the later order's row still holds its address, and reads it
	if r := f.details(t, after.ID); r.Erased || r.Address == nil {
		t.Errorf("later order's row %s, want its address kept", r)
	}
	got, err := f.events.GetOrder(t.Context(), after.ID)
	if err != nil || got.Erased || got.ShippingAddress == nil || *got.ShippingAddress != eventstoretest.Address {
		t.Errorf("later order %+v, %v; want its address", got, err)
	}
	// And the erased order's row stays erased
	if r := f.details(t, before.ID); !r.cleared() {
		t.Errorf("erased order's row %s", r)
	}
}
