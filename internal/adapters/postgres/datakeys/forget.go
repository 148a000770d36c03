package datakeys

import (
	"github.com/google/uuid"
	"github.com/orderapi/orderapi/internal/adapters/personaldata"
)

// Forgetter has a keyring forget the keys an erasure destroyed, as the
// notifications on ErasedChannel tell every replica: a handler of the
// replica's notify.Listener. Each notification forgets its customer; when
// the listener loses its session, and again each time it listens anew,
// the keyring forgets everything, since erasures may go unheard meanwhile.
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

// Lost forgets everything: from now until the listener listens again,
// erasures go unheard, and the keys are read from the store, which knows.
func (f Forgetter) Lost() { f.Keyring.ForgetAll() }
