// What an event did, and what changed between two versions of an order,
// in words. Pure functions of the API's JSON: no page, no calls.
//
// Money is the API's exact decimal text. It is shown as given, and the
// one sum the console makes itself (a line's quantity times its price) is
// done in integers (BigInt), never in floating point.

// times multiplies a decimal amount ("19.99") by a whole quantity,
// exactly, keeping the amount's places: times("19.99", 3) is "59.97".
export function times(amount, quantity) {
  const [whole, frac = ''] = String(amount).split('.');
  const digits = (BigInt(whole + frac) * BigInt(quantity)).toString().padStart(frac.length + 1, '0');
  return frac.length === 0 ? digits : `${digits.slice(0, -frac.length)}.${digits.slice(-frac.length)}`;
}

export const actionNames = {
  add_item: 'add an item', remove_item: 'remove an item', place: 'place', ship: 'ship', deliver: 'deliver', cancel: 'cancel',
};

const eventNames = {
  OrderCreated: 'Created', OrderItemAdded: 'Item added', OrderItemRemoved: 'Item removed', OrderPlaced: 'Placed',
  OrderShipped: 'Shipped', OrderDelivered: 'Delivered', OrderCancelled: 'Cancelled',
  CustomerPersonalDataErased: 'Personal data erased',
};

export function eventName(type) {
  return eventNames[type] || type;
}

// isOrderID tells an order's id from the id of another kind of stream in
// the feed (a customer's), as the service does: those are of the UUID
// variant reserved for future definition (octet 8 is 111x xxxx), which no
// order id may be.
export function isOrderID(id) {
  return !/^[ef]/i.test(String(id).slice(19, 20));
}

// address is a shipping address on one line.
export function address(a) {
  if (!a) return '';
  return [a.name, a.line1, a.line2, a.city, a.region, a.postal_code, a.country].filter(Boolean).join(', ');
}

// changes says what each of an order's events did: for events in version
// order, a list of lines per event, in the same order. Removals name the
// product and the line the order lost, known from the events before.
export function changes(events, currency = '') {
  const lines = new Map();
  return events.map((e) => {
    const d = e.data || {};
    if (e.unreadable) return [`This build of the service cannot read this event (stored as ${e.type}, schema ${e.schema_version}).`];
    switch (e.type) {
      case 'OrderCreated':
        currency = d.currency;
        return [`For customer ${d.customer_id}, in ${d.currency}.`];
      case 'OrderItemAdded':
        lines.set(d.product_id, d);
        return [`+ ${d.quantity} × ${d.product_name} at ${d.unit_price} = ${times(d.unit_price, d.quantity)} ${currency}`.trim()];
      case 'OrderItemRemoved': {
        const was = lines.get(d.product_id);
        lines.delete(d.product_id);
        return [was ? `− ${was.quantity} × ${was.product_name} at ${was.unit_price} (${times(was.unit_price, was.quantity)} ${currency})`.trim()
          : `− product ${d.product_id}`];
      }
      case 'OrderPlaced':
        return [`Total ${d.total_amount} ${currency}`.trim(), e.erased ? 'Address erased' : `Ship to ${address(d.shipping_address)}`];
      case 'OrderShipped':
        return [`With ${d.carrier}, tracking number ${d.tracking_number}`];
      case 'OrderDelivered':
        return [d.signature ? `Signed for by ${d.signature}` : e.erased ? 'Signature erased' : 'Not signed for'];
      case 'OrderCancelled':
        return [`By ${d.cancelled_by}${d.cancelled_by_verified === false ? ' (as declared, not verified)' : ''}${d.reason ? `: “${d.reason}”` : e.erased ? ': reason erased' : ''}`];
      default:
        return [];
    }
  });
}

// diff lists what changed from before to after (two versions of one
// order; before null for its first), each {what, from, to} with text
// values ('' for none).
export function diff(before, after) {
  if (!before) return [{ what: 'order', from: '', to: `created, ${after.status}` }];
  const out = [];
  const same = (what, from, to) => {
    if ((from ?? '') !== (to ?? '')) out.push({ what, from: from ?? '', to: to ?? '' });
  };
  same('status', before.status, after.status);
  const was = new Map(before.items.map((i) => [i.product_id, i]));
  for (const item of after.items) {
    const old = was.get(item.product_id);
    was.delete(item.product_id);
    same(item.product_name, old && line(old), line(item));
  }
  for (const old of was.values()) same(old.product_name, line(old), '');
  same('items', String(before.item_count), String(after.item_count));
  same('total', `${before.total} ${before.currency}`, `${after.total} ${after.currency}`);
  same('shipping address', address(before.shipping_address), address(after.shipping_address));
  same('carrier', before.carrier, after.carrier);
  same('tracking number', before.tracking_number, after.tracking_number);
  same('signature', before.signature, after.signature);
  same('cancel reason', before.cancel_reason, after.cancel_reason);
  same('cancelled by', before.cancelled_by, after.cancelled_by);
  same('allowed actions', actions(before.allowed_actions), actions(after.allowed_actions));
  return out;
}

function line(item) {
  return `${item.quantity} × ${item.unit_price} = ${item.line_total}`;
}

export function actions(list) {
  return (list || []).map((a) => actionNames[a] || a).join(', ');
}
