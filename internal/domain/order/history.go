package order

// MaxEvents is the most events an order's stream holds. Adding and
// removing items is the only way an order's history grows without an end
// in sight, so item changes stop ReservedEvents short of it: whatever its
// items did, an order can still be placed, shipped and delivered (or
// cancelled), and its stream never passes MaxEvents. That bounds every
// replay of a stream and the rows one stream takes. A hundred lines, added
// and removed, take some 200 events: the cap is far beyond any real order.
const MaxEvents = 20_000

// ReservedEvents are the last events of MaxEvents that only the rest of an
// order's life may use: place, ship and deliver is the longest way to end
// it. An item change is refused once an order has MaxEvents-ReservedEvents
// events.
const ReservedEvents = 3

// checkHistoryRoom refuses an item change when the order's history has no
// room left for one.
func (o *Order) checkHistoryRoom() error {
	if o.Version < MaxEvents-ReservedEvents {
		return nil
	}
	return ruleError(ErrHistoryFull, "order %s has %d events, the most its items may take: it can still be placed, shipped and delivered or cancelled (an order holds at most %d events)",
		o.ID, o.Version, MaxEvents)
}

// checkRoomToRefill refuses removing an order's last item where the
// history would then have no room to add one again: an empty order cannot
// be placed, so it would be left with nothing but cancelling.
func (o *Order) checkRoomToRefill() error {
	if len(o.Items) != 1 || o.Version+1 < MaxEvents-ReservedEvents {
		return nil
	}
	return ruleError(ErrHistoryFull, "removing the last item of order %s at %d events would leave no room to add one again and place it (an order holds at most %d events): add the new item first",
		o.ID, o.Version, MaxEvents)
}
