package datakeys

import (
	"github.com/google/uuid"
	"github.com/orderapi/orderapi/internal/adapters/personaldata"
)

// Forgetter has a keyring forget the keys an erasure destroyed, as the
// notifications on ErasedChannel tell every replica: a handler of the
// replica's notify.Listener. Each notification forgets its customer; each
// time the listener listens again, after a lost connection, the keyring
// forgets everything, since erasures may have gone unheard meanwhile.
type Forgetter struct {
	Keyring *personaldata.Keyring
}

// Notified forgets the customer the payload names; a payload that names
// none (sent by another writer) forgets everything, to be safe.
func (f Forgetter) Notified(payload string) {
	id, err := uuid.Parse(payload)
	if err != nil {
		f.Keyring.ForgetAll()
		return
	}
	f.Keyring.Forget(id)
}

// Listening forgets everything.
func (f Forgetter) Listening() { f.Keyring.ForgetAll() }
