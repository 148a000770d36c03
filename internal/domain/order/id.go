package order

import "github.com/google/uuid"

// IsOrderID reports whether id may name an order: any UUID but the nil
// one and those of the variant RFC 9562 reserves for future definition
// (the top three bits of octet 8 set). No UUID generator makes those
// (versions 1 to 8 are all of another variant), and they name the store's
// streams that are not an order's: a customer's (customer.StreamID). An
// order can therefore never be created on such a stream, and a read of
// one finds no order.
func IsOrderID(id uuid.UUID) bool {
	return id != uuid.Nil && id[8]&reservedVariantMask != reservedVariantMask
}

// reservedVariantMask selects the variant bits that, all set, mark the
// variant reserved for future definition.
const reservedVariantMask = 0xe0

// ReservedIDMessage says why an id IsOrderID refuses, other than nil, is.
const ReservedIDMessage = "must not be of the UUID variant reserved for future definition " +
	"(the first hexadecimal digit of its fourth group e or f): such ids name streams that are not orders"
