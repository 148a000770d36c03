package order

import (
	"time"

	"github.com/google/uuid"
)

// Commands validate their input first (KindInvalid: the input is wrong
// whatever the state), then the rules of the current state (KindRule).
// None of them changes the Order; the caller applies the returned events.

// Create decides the first event of a new order.
func Create(id, customerID uuid.UUID, currency Currency) ([]Event, error) {
	var fe fieldErrors
	if id == uuid.Nil {
		fe.add("order_id", FieldRequired, "must not be the nil UUID")
	} else if !IsOrderID(id) {
		fe.add("order_id", FieldBadFormat, ReservedIDMessage)
	}
	if customerID == uuid.Nil {
		fe.add("customer_id", FieldRequired, "must not be the nil UUID")
	}
	if _, ok := currencyMinorUnits[string(currency)]; !ok {
		fe.add("currency", FieldBadCurrency, "must be an active ISO 4217 code in upper case, e.g. \"USD\"")
	}
	if err := fe.err(); err != nil {
		return nil, err
	}
	return []Event{Created{OrderID: id, CustomerID: customerID, Currency: currency}}, nil
}

// NewItem is the input of AddItem.
type NewItem struct {
	ProductID   uuid.UUID
	ProductName string
	Quantity    int64
	UnitPrice   Amount
}

// Validate lists every problem with the item's own values.
func (it NewItem) Validate() error {
	var fe fieldErrors
	if it.ProductID == uuid.Nil {
		fe.add("product_id", FieldRequired, "must not be the nil UUID")
	}
	fe.checkText("product_name", it.ProductName, true, MaxNameLen)
	if it.Quantity < 1 || it.Quantity > MaxQuantity {
		fe.add("quantity", FieldOutOfRange, "must be between 1 and %d", MaxQuantity)
	}
	if !validAmount(it.UnitPrice) {
		fe.add("unit_price", FieldOutOfRange, "must be between 0 and %s with at most %d decimal places", MaxAmount, MaxAmountScale)
	} else if line, ok := (Item{Quantity: it.Quantity, UnitPrice: it.UnitPrice}).lineUnits(); !ok || exceedsMax(line, it.UnitPrice.scale) {
		fe.add("unit_price", FieldOutOfRange, "quantity × unit_price must not exceed %s", MaxAmount)
	}
	return fe.err()
}

// AddItem adds a product line to a draft order. A product appears at most
// once; the order's total must stay within MaxAmount, and its history
// short of MaxEvents (see ReservedEvents).
func (o *Order) AddItem(it NewItem) ([]Event, error) {
	if err := it.Validate(); err != nil {
		return nil, err
	}
	if err := o.can(ActionAddItem); err != nil {
		return nil, err
	}
	if err := o.checkHistoryRoom(); err != nil {
		return nil, err
	}
	if _, ok := o.item(it.ProductID); ok {
		return nil, ruleError(ErrDuplicateProduct, "product %s is already in order %s; remove it first to change it", it.ProductID, o.ID)
	}
	if len(o.Items) >= MaxItemsPerOrder {
		return nil, ruleError(ErrTooManyItems, "order %s already has %d items, the maximum", o.ID, MaxItemsPerOrder)
	}
	if o.totalWouldExceed(Item{Quantity: it.Quantity, UnitPrice: it.UnitPrice}) {
		return nil, ruleError(ErrTotalOutOfRange, "order %s total would exceed %s", o.ID, MaxAmount)
	}
	return []Event{ItemAdded{
		OrderID:     o.ID,
		ProductID:   it.ProductID,
		ProductName: it.ProductName,
		Quantity:    it.Quantity,
		UnitPrice:   it.UnitPrice,
	}}, nil
}

// RemoveItem removes a product line from a draft order whose history has
// room for it (see ReservedEvents).
func (o *Order) RemoveItem(productID uuid.UUID) ([]Event, error) {
	if err := o.can(ActionRemoveItem); err != nil {
		return nil, err
	}
	if err := o.checkHistoryRoom(); err != nil {
		return nil, err
	}
	if _, ok := o.item(productID); !ok {
		return nil, ruleError(ErrItemNotInOrder, "product %s is not in order %s", productID, o.ID)
	}
	if err := o.checkRoomToRefill(); err != nil {
		return nil, err
	}
	return []Event{ItemRemoved{OrderID: o.ID, ProductID: productID}}, nil
}

// Place commits a draft, non-empty order to a complete shipping address and
// records its exact total.
func (o *Order) Place(addr Address) ([]Event, error) {
	if err := addr.Validate(); err != nil {
		return nil, err
	}
	if err := o.can(ActionPlace); err != nil {
		return nil, err
	}
	if len(o.Items) == 0 {
		return nil, ruleError(ErrEmpty, "order %s has no items; add one before placing it", o.ID)
	}
	return []Event{Placed{OrderID: o.ID, ShippingAddress: addr, TotalAmount: o.Total()}}, nil
}

// Ship hands a placed order to a carrier.
func (o *Order) Ship(trackingNumber, carrier string) ([]Event, error) {
	if err := ValidateShipment(trackingNumber, carrier); err != nil {
		return nil, err
	}
	if err := o.can(ActionShip); err != nil {
		return nil, err
	}
	return []Event{Shipped{OrderID: o.ID, TrackingNumber: trackingNumber, Carrier: carrier}}, nil
}

// Deliver records the delivery of a shipped order at deliveredAt, which may
// neither precede the shipment nor lie more than MaxClockSkew after now.
func (o *Order) Deliver(deliveredAt, now time.Time, signature string) ([]Event, error) {
	if err := Merge(ValidateDeliveredAt(deliveredAt, now), ValidateSignature(signature)); err != nil {
		return nil, err
	}
	if err := o.can(ActionDeliver); err != nil {
		return nil, err
	}
	if deliveredAt.Before(o.ShippedAt) {
		return nil, Invalid("delivered_at", FieldBeforeShip, "must not be before the order was shipped ("+o.ShippedAt.UTC().Format(time.RFC3339Nano)+")")
	}
	return []Event{Delivered{OrderID: o.ID, DeliveredAt: deliveredAt, Signature: signature}}, nil
}

// Cancel ends a draft or placed order, once. cancelledBy is the verified
// id of whoever cancels it.
func (o *Order) Cancel(reason, cancelledBy string) ([]Event, error) {
	if err := ValidateCancellation(reason, cancelledBy); err != nil {
		return nil, err
	}
	if err := o.can(ActionCancel); err != nil {
		return nil, err
	}
	return []Event{Cancelled{OrderID: o.ID, Reason: reason, CancelledBy: cancelledBy, Verified: true}}, nil
}

// The checks of each command's own input, exported so that an adapter can
// report every field problem before it looks the order up.

// ValidateShipment checks the input of Ship.
func ValidateShipment(trackingNumber, carrier string) error {
	var fe fieldErrors
	fe.checkText("tracking_number", trackingNumber, true, MaxTrackingLen)
	fe.checkText("carrier", carrier, true, MaxCarrierLen)
	return fe.err()
}

// ValidateDeliveredAt checks a delivery time on its own: present, within
// the time bounds, and not in the future beyond MaxClockSkew of now.
func ValidateDeliveredAt(deliveredAt, now time.Time) error {
	var fe fieldErrors
	switch {
	case deliveredAt.IsZero():
		fe.add("delivered_at", FieldRequired, "is required")
	case !InTimeBounds(deliveredAt):
		return CheckTime("delivered_at", deliveredAt)
	case deliveredAt.After(now.Add(MaxClockSkew)):
		fe.add("delivered_at", FieldInFuture, "must not be later than now (%s) by more than %s",
			now.UTC().Truncate(time.Second).Format(time.RFC3339), MaxClockSkew)
	}
	return fe.err()
}

// ValidateSignature checks the signature given to Deliver; empty is fine.
func ValidateSignature(signature string) error {
	var fe fieldErrors
	fe.checkText("signature", signature, false, MaxSignatureLen)
	return fe.err()
}

// ValidateCancellation checks the input of Cancel.
func ValidateCancellation(reason, cancelledBy string) error {
	var fe fieldErrors
	fe.checkText("reason", reason, true, MaxReasonLen)
	fe.checkText("cancelled_by", cancelledBy, true, MaxActorLen)
	return fe.err()
}
