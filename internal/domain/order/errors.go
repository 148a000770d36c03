package order

import (
	"fmt"
	"strings"
)

// Kind classifies an *Error so that adapters can map it without knowing
// every code.
type Kind uint8

const (
	// KindInvalid: the input itself is unacceptable, whatever the state.
	KindInvalid Kind = iota + 1
	// KindRule: the input is fine but the order's state forbids the command.
	KindRule
	// KindNotFound: the order does not exist.
	KindNotFound
)

// Error is a domain error with a stable, machine-readable Code. Codes are
// part of the public contract: never change one, add a new one instead.
type Error struct {
	Kind    Kind
	Code    string
	Message string
	// Fields lists every offending field of a KindInvalid error.
	Fields []FieldError
}

// FieldError names one invalid input field, by the snake_case name it has in
// the order's events, with a stable code.
type FieldError struct {
	Field   string
	Code    string
	Message string
}

func (e *Error) Error() string {
	if len(e.Fields) == 0 {
		return e.Message
	}
	parts := make([]string, len(e.Fields))
	for i, f := range e.Fields {
		parts[i] = f.Field + ": " + f.Message
	}
	return e.Message + " (" + strings.Join(parts, "; ") + ")"
}

// Is makes errors.Is(err, ErrNotDraft) and the like match on the code, so a
// rule error may carry a message specific to the order.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Code == e.Code
}

// Stable error codes.
const (
	CodeValidation       = "validation_failed"
	CodeNotFound         = "order_not_found"
	CodeNotDraft         = "order_not_draft"
	CodeNotPlaced        = "order_not_placed"
	CodeNotShipped       = "order_not_shipped"
	CodeAlreadyCancelled = "order_already_cancelled"
	CodeNotCancellable   = "order_not_cancellable"
	CodeDuplicateProduct = "duplicate_product"
	CodeItemNotInOrder   = "item_not_in_order"
	CodeEmpty            = "order_empty"
	CodeTooManyItems     = "too_many_items"
	CodeTotalOutOfRange  = "order_total_out_of_range"
	CodeHistoryFull      = "order_history_full"
)

// Field error codes.
const (
	FieldRequired    = "required"
	FieldTooLong     = "too_long"
	FieldOutOfRange  = "out_of_range"
	FieldBadFormat   = "invalid_format"
	FieldBadText     = "invalid_text"
	FieldBadCurrency = "invalid_currency"
	FieldBadCountry  = "invalid_country"
	FieldBeforeShip  = "before_shipment"
	FieldInFuture    = "in_future"
	// FieldNotCaller: the field names someone other than the caller, where
	// only the caller may be named.
	FieldNotCaller = "not_caller"
)

// Sentinels for errors.Is. Errors returned by commands carry a message
// about the particular order; they match these by code.
var (
	ErrNotFound         = &Error{Kind: KindNotFound, Code: CodeNotFound, Message: "order not found"}
	ErrNotDraft         = &Error{Kind: KindRule, Code: CodeNotDraft, Message: "order is not a draft"}
	ErrNotPlaced        = &Error{Kind: KindRule, Code: CodeNotPlaced, Message: "order is not placed"}
	ErrNotShipped       = &Error{Kind: KindRule, Code: CodeNotShipped, Message: "order is not shipped"}
	ErrAlreadyCancelled = &Error{Kind: KindRule, Code: CodeAlreadyCancelled, Message: "order is already cancelled"}
	ErrNotCancellable   = &Error{Kind: KindRule, Code: CodeNotCancellable, Message: "order can no longer be cancelled"}
	ErrDuplicateProduct = &Error{Kind: KindRule, Code: CodeDuplicateProduct, Message: "product is already in the order"}
	ErrItemNotInOrder   = &Error{Kind: KindRule, Code: CodeItemNotInOrder, Message: "product is not in the order"}
	ErrEmpty            = &Error{Kind: KindRule, Code: CodeEmpty, Message: "order has no items"}
	ErrTooManyItems     = &Error{Kind: KindRule, Code: CodeTooManyItems, Message: "order has the maximum number of items"}
	ErrTotalOutOfRange  = &Error{Kind: KindRule, Code: CodeTotalOutOfRange, Message: "order total would exceed the maximum amount"}
	ErrHistoryFull      = &Error{Kind: KindRule, Code: CodeHistoryFull, Message: "order has the most events its items may take"}
)

func ruleError(sentinel *Error, format string, args ...any) *Error {
	return &Error{Kind: sentinel.Kind, Code: sentinel.Code, Message: fmt.Sprintf(format, args...)}
}

// fieldErrors collects field problems so that one answer lists them all.
type fieldErrors []FieldError

func (fe *fieldErrors) add(field, code, format string, args ...any) {
	*fe = append(*fe, FieldError{Field: field, Code: code, Message: fmt.Sprintf(format, args...)})
}

// err returns nil when nothing was collected: the result must be compared
// as an error interface, so it is never a typed nil.
func (fe fieldErrors) err() error {
	if len(fe) == 0 {
		return nil
	}
	return &Error{Kind: KindInvalid, Code: CodeValidation, Message: "the request has invalid fields", Fields: fe}
}

// Merge combines validation errors from several sources (say, parsing at
// the edge and the domain's own checks) into one KindInvalid error. Nil and
// non-validation errors are skipped.
func Merge(errs ...error) error {
	var all fieldErrors
	for _, err := range errs {
		if e, ok := err.(*Error); ok && e.Kind == KindInvalid {
			all = append(all, e.Fields...)
		}
	}
	return all.err()
}

// Invalid returns a KindInvalid error for one field.
func Invalid(field, code, message string) error {
	var fe fieldErrors
	fe.add(field, code, "%s", message)
	return fe.err()
}
