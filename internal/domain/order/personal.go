package order

// Personal data is what can name a person: the shipping address of Placed
// (every line of it), the signature of Delivered and the free-text reason
// of Cancelled. Everything else an order holds (ids, statuses, items,
// amounts, times, the carrier's tracking number, the principal ids of
// CancelledBy and the events' metadata) stays readable for as long as the
// order exists; the rules of this package never read personal data back.
//
// A customer's personal data can be erased. Events are never changed, so
// erasure is done outside them (the store destroys the key that their
// personal fields are sealed with); an event read back after that has its
// personal fields empty and Erased set, and an Order folded from it has
// Erased set. Every command still works on such an order where the rules
// allow, since none needs the personal data already recorded.

// WithPersonalDataErased returns e as it reads after its customer's
// personal data was erased: its personal fields empty and Erased set. An
// event without personal data is returned as it is.
func WithPersonalDataErased(e Event) Event {
	switch e := e.(type) {
	case Placed:
		e.ShippingAddress, e.Erased = Address{}, true
		return e
	case Delivered:
		e.Signature, e.Erased = "", true
		return e
	case Cancelled:
		e.Reason, e.Erased = "", true
		return e
	}
	return e
}

// IsErased reports whether e was read back with its personal data erased.
func IsErased(e Event) bool {
	switch e := e.(type) {
	case Placed:
		return e.Erased
	case Delivered:
		return e.Erased
	case Cancelled:
		return e.Erased
	}
	return false
}
