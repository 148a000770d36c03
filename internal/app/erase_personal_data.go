package app

import (
	"context"
	"errors"
	"fmt"

	"github.com/google/uuid"
	"github.com/orderapi/orderapi/internal/domain/customer"
	"github.com/orderapi/orderapi/internal/domain/order"
)

// PersonalDataEraser destroys customers' personal data and records that it
// did.
type PersonalDataEraser interface {
	// ErasePersonalData destroys, in one transaction, the keys that seal
	// the customer's personal data and, when it destroyed any or the
	// customer's stream records no erasure yet, appends e.Event to that
	// stream (customer.StreamID): either both are done or neither.
	// recorded says whether it appended. Once it returns nil no replica
	// opens what the keys sealed. A store that keeps personal data in
	// clear answers ErrPersonalDataNotSealed.
	ErasePersonalData(ctx context.Context, e Erasure) (recorded bool, err error)
}

// Erasure is the record of one erasure of a customer's personal data.
// It occurs when the keys are destroyed: the store's transaction's time.
type Erasure struct {
	EventID uuid.UUID
	Event   customer.PersonalDataErased
	// Metadata says who erased it: the verified principal, as every
	// event's does.
	Metadata Metadata
}

// ErrPersonalDataNotSealed: the store keeps personal data in clear
// (sealing off, a development mode), so there is no key whose
// destruction would erase it. Nothing is erased or recorded.
var ErrPersonalDataNotSealed = &Error{Code: "personal_data_not_sealed",
	Message: "this server stores personal data in clear (sealing is off, a development mode) and cannot erase it by destroying keys; " +
		"nothing was erased"}

// errNoEraser: the Service was made without Config.Eraser.
var errNoEraser = errors.New("app: erasing personal data needs Config.Eraser")

// ErasePersonalData erases the customer's personal data (shipping
// addresses, delivery signatures, cancellation reasons, in every order of
// the customer, as stored until now) by destroying the keys that seal it,
// and records the erasure in the customer's stream, with who asked and
// when. Staff only: anyone else is ErrForbidden.
//
// It is idempotent: erasing again, with nothing recorded since, destroys
// nothing and records nothing more. A customer with no personal data
// stored gets the record all the same, the first time, so that the request
// is on record. Personal data recorded after an erasure gets a new key,
// which the next erasure destroys and records.
//
// The customer's orders stay, with everything but their personal data;
// the states this Service keeps of them are dropped, since they hold it.
// A store that keeps personal data in clear refuses it:
// ErrPersonalDataNotSealed.
func (s *Service) ErasePersonalData(ctx context.Context, customerID uuid.UUID, meta Metadata) (err error) {
	defer func() { s.observer.CommandDone("erase_personal_data", outcomeOf(Result{}, err), 0) }()
	if !meta.Principal.Roles.Has(RoleStaff) {
		return ErrForbidden
	}
	if customerID == uuid.Nil {
		return order.Invalid("customer_id", order.FieldRequired, "must not be the nil UUID")
	}
	if s.eraser == nil {
		return errNoEraser
	}
	id, err := uuid.NewV7()
	if err != nil {
		return fmt.Errorf("new event id: %w", err)
	}
	e := Erasure{EventID: id, Event: customer.PersonalDataErased{CustomerID: customerID}, Metadata: meta}
	if _, err := s.eraser.ErasePersonalData(ctx, e); err != nil {
		return fmt.Errorf("erase the personal data of customer %s: %w", customerID, err)
	}
	s.ForgetCustomer(customerID)
	return nil
}

// ForgetCustomer drops the order states this Service keeps of the
// customer's orders: once its personal data is erased, a kept state would
// still hold it. Every replica calls it when told of an erasure. It waits
// for the commands in flight on each stripe in turn.
func (s *Service) ForgetCustomer(customerID uuid.UUID) {
	s.forgetStates(func(o *order.Order) bool { return o.CustomerID == customerID })
}

// ForgetStates drops every order state this Service keeps: for when an
// erasure may have gone unheard.
func (s *Service) ForgetStates() {
	s.forgetStates(func(*order.Order) bool { return true })
}

func (s *Service) forgetStates(match func(*order.Order) bool) {
	if s.states == nil {
		return
	}
	for i := range s.locks {
		s.locks[i] <- struct{}{}
		s.states.dropIn(i, match)
		<-s.locks[i]
	}
}
