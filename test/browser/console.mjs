// The console at /console in a real browser: a customer signs in with a
// pasted token and follows their order's life step by step, back in time
// too; a member of staff signs in with the development role picker and
// sees the order shipped, live, in its timeline and in the feed.
//
//   ORDER_ID=<uuid> CUSTOMER_ID=<uuid> CUSTOMER_TOKEN=<token> STAFF_TOKEN=<token> \
//     node test/browser/console.mjs <base-url> <artifact-dir>
//
// The order (cmd/orderapi/browser_test.go makes it) is the customer's,
// created with an Espresso cup (3 × 19.99) and a Saucer (1 × 4.50), the
// Saucer removed, then placed: five events. STAFF_TOKEN ships it while
// the page is open, then erases the customer's personal data. Screenshots
// for the README are taken at a fixed size (readme-*.png).
import { randomUUID } from 'node:crypto';
import { changes, diff, isOrderID, times } from '../../internal/adapters/webui/console/describe.js';
import { Parser } from '../../internal/adapters/webui/console/stream.js';
import { run } from './harness.mjs';

const order = process.env.ORDER_ID || '';
const customer = process.env.CUSTOMER_ID || '';
const customerToken = process.env.CUSTOMER_TOKEN || '';
const staffToken = process.env.STAFF_TOKEN || '';

const lifeSoFar = ['OrderCreated', 'OrderItemAdded', 'OrderItemAdded', 'OrderItemRemoved', 'OrderPlaced'];

function check(ok, what) {
  if (!ok) throw new Error(what);
}

const same = (a, b) => JSON.stringify(a) === JSON.stringify(b);

// The console's own arithmetic and its reading of the event stream, by
// themselves: what the page would be wrong about without a sign.
function units() {
  // Money: exact, in the amount's places, never through a float.
  for (const [amount, qty, want] of [['19.99', 3, '59.97'], ['4.50', 1, '4.50'], ['0.05', 3, '0.15'], ['0.1', 3, '0.3'],
    ['1000', 7, '7000'], ['9999999999999.9999', 1000000, '9999999999999999900.0000'], ['0.0001', 1, '0.0001']]) {
    check(times(amount, qty) === want, `times(${amount}, ${qty}) = ${times(amount, qty)}, want ${want}`);
  }
  // A removal names the line the order lost; a diff lists what changed.
  const lines = changes([
    { type: 'OrderCreated', data: { customer_id: 'c', currency: 'EUR' } },
    { type: 'OrderItemAdded', data: { product_id: 'p', product_name: 'Cup', quantity: 2, unit_price: '0.10' } },
    { type: 'OrderItemRemoved', data: { product_id: 'p' } },
    { type: 'OrderPlaced', unreadable: true, schema_version: 9, data: {} },
  ]);
  check(same(lines.slice(1), [['+ 2 × Cup at 0.10 = 0.20 EUR'], ['− 2 × Cup at 0.10 (0.20 EUR)'],
    ['This build of the service cannot read this event (stored as OrderPlaced, schema 9).']]), `changes: ${JSON.stringify(lines)}`);
  const order = { status: 'draft', items: [], item_count: 0, total: '0.00', currency: 'EUR', allowed_actions: ['place'] };
  const later = { ...order, status: 'placed', total: '0.20', item_count: 2, allowed_actions: [],
    items: [{ product_id: 'p', product_name: 'Cup', quantity: 2, unit_price: '0.10', line_total: '0.20' }] };
  check(same(diff(order, later).map((d) => d.what), ['status', 'Cup', 'items', 'total', 'allowed actions']), `diff: ${JSON.stringify(diff(order, later))}`);
  // Erased personal data is said to be, not shown as empty.
  const erased = changes([
    { type: 'OrderPlaced', erased: true, data: { total_amount: '0.20', shipping_address: null } },
    { type: 'OrderDelivered', erased: true, data: { signature: null } },
    { type: 'OrderCancelled', erased: true, data: { cancelled_by: 'staff', reason: null } },
  ], 'EUR');
  check(same(erased, [['Total 0.20 EUR', 'Address erased'], ['Signature erased'], ['By staff: reason erased']]), `erased: ${JSON.stringify(erased)}`);
  // A feed event's stream is an order's, unless its id is of the variant
  // no order id may be (a customer's stream, as the service makes them).
  for (const [id, want] of [['0190d6c9-0000-7000-8000-000000000001', true], [randomUUID(), true],
    ['8ee693aa-f706-3547-e44e-b6910aca6ee5', false], ['8ee693aa-f706-3547-F44e-b6910aca6ee5', false]]) {
    check(isOrderID(id) === want, `isOrderID(${id}) = ${isOrderID(id)}, want ${want}`);
  }

  // The stream: pieces cut anywhere, even between \r and \n; comments;
  // data on several lines; an id without data; retry.
  const text = 'retry: 1500\r\n\r\n: keep-alive\r\n\r\nid: A\r\nevent: OrderPlaced\r\ndata: {"a":\r\ndata: 1}\r\n\r\nid: B\n\ndata:x\rid: C\r\r';
  for (let cut = 1; cut < text.length; cut++) {
    const p = new Parser('start');
    const got = [...p.push(text.slice(0, cut)), ...p.push(text.slice(cut))];
    const want = [{ id: 'A', event: 'OrderPlaced', data: '{"a":\n1}' }, { id: 'C', event: 'message', data: 'x' }];
    check(same(got, want) && p.lastEventId === 'C' && p.retry === 1500, `cut at ${cut}: ${JSON.stringify(got)}, last id ${p.lastEventId}`);
  }
  const p = new Parser('start');
  p.push('id: B\n\n');
  check(p.lastEventId === 'B', 'an id without data is not kept');
}

await run('console', async ({ page, base, screenshot, problems }) => {
  check(order && customer && customerToken && staffToken, 'set ORDER_ID, CUSTOMER_ID, CUSTOMER_TOKEN and STAFF_TOKEN');
  units();
  // What the API answers the staff directly, from this script: the
  // feed's end, and the cursor after its first event.
  const asStaff = (path, init = {}) => fetch(base + path, {
    ...init, headers: { Authorization: `Bearer ${staffToken}`, 'Content-Type': 'application/json', ...init.headers },
  });

  // Given the console, signed out: the role picker is offered, since the
  // service runs in development mode and this browser is on its machine
  await page.goto(`${base}/console`);
  await page.locator('#token-form').waitFor();
  await page.locator('#dev-form').waitFor();
  for (const hidden of ['#workspace', '#who', '#dev-customer-field']) {
    check(await page.locator(hidden).isHidden(), `${hidden} is shown to someone signed out, as staff`);
  }
  // (a customer is asked for their id)
  await page.check('#dev-form input[value=customer]');
  await page.locator('#dev-customer').waitFor();
  await page.check('#dev-form input[value=staff]');
  await page.locator('#dev-customer').waitFor({ state: 'hidden' });
  await screenshot('console-sign-in');

  // When a token that is not one is pasted, Then its refusal is told
  // in the API's words
  problems.expect('GET /v1/projections', 401);
  await page.fill('#token-input', 'not-a-token');
  await page.click('#token-form button[type=submit]');
  await page.locator('#live-problem', { hasText: 'invalid_token' }).waitFor();
  await page.click('#sign-out');

  // When the customer signs in with their token, pasted
  problems.expect('GET /v1/projections', 403);
  await page.fill('#token-input', customerToken);
  await page.click('#token-form button[type=submit]');
  await page.locator('#who-name', { hasText: customer }).waitFor();
  // Then the live panel says it is for staff, in the API's words
  await page.locator('#live-problem', { hasText: 'Not allowed for your roles (403 forbidden)' }).waitFor();
  check(await page.locator('#live-body').isHidden() && await page.locator('#sign-in').isHidden(), 'the live panel or the sign-in is still shown');

  // When they list their orders (their id is filled in) and open the one
  await page.click('#find-customer button[type=submit]');
  await page.locator('#customer-orders tbody tr', { hasText: order }).locator('button').click();

  // Then every event is a step of the timeline, the last one now
  await page.locator('#timeline .step').nth(lifeSoFar.length - 1).waitFor();
  const types = await page.$$eval('#timeline .step', (steps) => steps.map((s) => s.dataset.type));
  check(JSON.stringify(types) === JSON.stringify(lifeSoFar), `timeline ${JSON.stringify(types)}, want ${JSON.stringify(lifeSoFar)}`);
  const last = page.locator('#timeline .step').last();
  check(await last.getAttribute('aria-current') === 'step', 'the latest step is not the one on view');
  check((await page.textContent('.lifecycle [aria-current]')).trim() === 'placed', 'the status now is not placed');
  check((await page.textContent('#allowed')).trim() === 'ship, cancel', `allowed now: ${await page.textContent('#allowed')}`);
  // with who did it and what it changed, money as the API wrote it
  for (const [i, text] of [[1, '+ 3 × Espresso cup at 19.99 = 59.97 USD'], [3, '− 1 × Saucer at 4.50 (4.50 USD)'], [4, 'Total 59.97 USD']]) {
    await page.locator('#timeline .step').nth(i).filter({ hasText: text }).filter({ hasText: `by ${customer} (customer)` }).waitFor();
  }
  await page.locator('#then', { hasText: 'After step 5: Placed' }).waitFor();
  await screenshot('console-order');

  // When they step back to the second event, by clicking it
  await page.locator('#timeline .step').nth(1).click();
  // Then the order is as it was then: a draft with one item, and what
  // that step changed
  await page.locator('#then h3', { hasText: 'After step 2: Item added' }).waitFor();
  check((await page.textContent('#then .badge')).trim() === 'draft', 'step 2 is not a draft');
  check(await page.locator('#then .items tbody tr').count() === 1, 'step 2 has not one item');
  await page.locator('#then .diff ins', { hasText: '3 × 19.99 = 59.97' }).waitFor();
  check((await page.textContent('#step-out')).trim() === '2 of 5', 'the slider is not at step 2');
  // and the arrow keys move on, one step at a time: two items, then one
  await page.keyboard.press('ArrowDown');
  await page.locator('#then h3', { hasText: 'After step 3' }).waitFor();
  check(await page.locator('#then .items tbody tr').count() === 2, 'step 3 has not two items');
  await page.keyboard.press('ArrowDown');
  await page.locator('#then .diff del', { hasText: '1 × 4.50 = 4.50' }).waitFor();
  check(await page.evaluate(() => document.activeElement?.dataset.version) === '4', 'the focus did not follow the arrow keys');
  // and the slider drags through them: the first step, no items yet
  await page.locator('#step').fill('1');
  await page.locator('#then', { hasText: 'No items.' }).waitFor();
  await screenshot('console-time-travel');
  await page.keyboard.press('End');
  await page.locator('#then h3', { hasText: 'After step 5' }).waitFor();

  // When an order that is not theirs is asked for, Then it is not found,
  // as the API says
  const stranger = randomUUID();
  problems.expect(`GET /v1/orders/${stranger}`, 404);
  problems.expect(`GET /v1/orders/${stranger}/events`, 404);
  await page.fill('#order-id', stranger);
  await page.click('#find-order button[type=submit]');
  await page.locator('#find-problem', { hasText: 'Order not found (404 order_not_found)' }).waitFor();

  // When they sign out, Then the token is forgotten
  const kept = await page.evaluate(() => sessionStorage.length);
  await page.click('#sign-out');
  await page.locator('#token-form').waitFor();
  check(kept === 1 && await page.evaluate(() => sessionStorage.length + localStorage.length) === 0, 'the token outlived signing out');

  // Given the feed's end and another cursor, as the API gives them
  const projections = await (await asStaff('/v1/projections')).json();
  const end = projections.projections.find((p) => p.name === 'order_details').position.cursor;
  const afterFirst = (await (await asStaff('/v1/events?limit=1')).json()).next_cursor;
  check(end && afterFirst && end !== afterFirst, `cursors ${end}, ${afterFirst}`);
  // and a first stream that ends at once, after naming its last event
  let opened = '';
  await page.route('**/v1/events', (route) => {
    opened = route.request().headers()['last-event-id'];
    return route.fulfill({ status: 200, contentType: 'text/event-stream', body: `retry: 300\n\n: first\n\nid: ${afterFirst}\n\n` });
  }, { times: 1 });
  const reconnected = page.waitForRequest((r) => new URL(r.url()).pathname === '/v1/events' && r.headers()['last-event-id'] === afterFirst);

  // When a member of staff signs in by picking the role
  await page.check('#dev-form input[value=staff]');
  await page.click('#dev-form button[type=submit]');
  await page.locator('#who-name', { hasText: 'dev-staff' }).waitFor();
  // Then the token is kept for this tab only
  check(await page.evaluate(() => sessionStorage.length === 1 && localStorage.length === 0), 'the token is not in session storage alone');
  // and the live feed starts from the end of the feed, and reconnects
  // after the last id it got when its stream ends
  await reconnected;
  check(opened === end, `the live feed opened after ${opened}, want the feed's end ${end}`);
  await page.locator('#live-status', { hasText: 'Live' }).waitFor();
  for (const name of ['order_details', 'customer_orders', 'analytics']) {
    await page.locator(`#projections tr[data-name=${name}]`).waitFor();
  }

  // When they open the order by its id
  await page.fill('#order-id', order);
  await page.click('#find-order button[type=submit]');
  await page.locator('#timeline .step').nth(lifeSoFar.length - 1).waitFor();

  // and it is shipped while the page is open
  const shipped = await asStaff(`/v1/orders/${order}/ship`, { method: 'POST', body: JSON.stringify({ tracking_number: '1Z999AA10123456784', carrier: 'UPS' }) });
  check(shipped.status === 200, `ship: ${shipped.status} ${await shipped.text()}`);

  // Then the timeline grows by the new step, on view, with who did it,
  // and the feed shows it, without a reload
  await page.locator('#timeline .step[data-type=OrderShipped][aria-current=step]', { hasText: 'With UPS, tracking number 1Z999AA10123456784' }).waitFor();
  await page.locator('#feed li[data-type=OrderShipped]').filter({ has: page.locator(`button[title="Open order ${order}"]`) }).waitFor();
  check((await page.textContent('.lifecycle [aria-current]')).trim() === 'shipped', 'the status now is not shipped');
  check((await page.textContent('#allowed')).trim() === 'deliver', `allowed now: ${await page.textContent('#allowed')}`);
  await page.locator('#then', { hasText: 'After step 6: Shipped' }).waitFor();
  await page.locator('#then .diff ins', { hasText: 'UPS' }).waitFor();
  await screenshot('console-live');
  // (the README's, at a size kept small)
  await page.setViewportSize({ width: 1024, height: 640 });
  await page.evaluate(() => window.scrollTo(0, 0));
  await screenshot('readme-console', page, { fullPage: false });

  // And on a phone's screen, the same in one column
  await page.setViewportSize({ width: 390, height: 844 });
  await page.locator('#timeline .step').nth(2).click();
  await page.locator('#then h3', { hasText: 'After step 3' }).waitFor();
  await screenshot('console-phone');
  await page.locator('.slider').evaluate((slider) => slider.scrollIntoView({ block: 'start' }));
  await screenshot('readme-console-phone', page, { fullPage: false });

  // When the customer's personal data is erased while the page shows the
  // order as placed, with its address
  await page.locator('#timeline .step').nth(4).click();
  await page.locator('#then .facts', { hasText: 'Ada Lovelace' }).waitFor();
  const erased = await asStaff(`/v1/customers/${customer}/personal-data`, { method: 'DELETE' });
  check(erased.status === 204, `erase: ${erased.status} ${await erased.text()}`);
  // Then the feed announces it, naming the customer, not an order (its
  // stream is the customer's), and the page reads the order again: the
  // step on view, the timeline and every other step show no address
  const announced = page.locator('#feed li[data-type=CustomerPersonalDataErased]');
  await announced.locator(`button[title="Orders of customer ${customer}"]`, { hasText: customer.slice(0, 8) }).waitFor();
  check(await announced.locator('button[title^="Open order"]').count() === 0, 'the erasure is linked as an order');
  await page.locator('#timeline .step[data-type=OrderPlaced]', { hasText: 'Address erased' }).waitFor();
  await page.locator('#then', { hasText: 'Personal data' }).waitFor();
  check((await page.textContent('#then h3')).includes('After step 5'), 'the step on view moved');
  await page.locator('#timeline .step').last().click();
  await page.locator('#then h3', { hasText: 'After step 6' }).waitFor();
  await page.locator('#then', { hasText: 'Personal data' }).waitFor();
  for (const personal of ['Lovelace', 'St James']) {
    check(!(await page.textContent('#order')).includes(personal), `the page still shows ${personal} after the erasure`);
  }
  // and the erasure in the feed lists the customer's orders
  await announced.locator('button').click();
  await page.locator('#customer-orders tbody tr', { hasText: order }).waitFor();
  check((await page.textContent('#orders-title')).includes(customer), 'the list is not of the erased customer');

  // When they sign out, the live feed is closed
  problems.expectAborted('GET /v1/events');
  await page.click('#sign-out');
  await page.locator('#token-form').waitFor();
  check(await page.evaluate(() => sessionStorage.length) === 0, 'the token outlived signing out');

  // Given the customer back, with a new order placed since, on view as
  // placed, with its address
  const asCustomer = (path, body) => fetch(base + path, {
    method: 'POST', body: JSON.stringify(body), headers: { Authorization: `Bearer ${customerToken}`, 'Content-Type': 'application/json' },
  }).then(async (r) => (r.ok ? r.json() : Promise.reject(new Error(`POST ${path}: ${r.status} ${await r.text()}`))));
  const again = await asCustomer('/v1/orders', { customer_id: customer });
  await asCustomer(`/v1/orders/${again.id}/items`, { product_id: randomUUID(), product_name: 'Teapot', quantity: 1, unit_price: '35.00' });
  await asCustomer(`/v1/orders/${again.id}/place`, { shipping_address: { name: 'Grace Hopper', line1: '1 Navy Yard', city: 'Arlington', postal_code: '22202', country: 'US' } });
  await page.fill('#token-input', customerToken);
  await page.click('#token-form button[type=submit]');
  await page.fill('#order-id', again.id);
  await page.click('#find-order button[type=submit]');
  await page.locator('#then .facts', { hasText: 'Grace Hopper' }).waitFor();
  // When staff erase the customer again, while the page, which has no
  // live feed for a customer, is open
  const againErased = await asStaff(`/v1/customers/${customer}/personal-data`, { method: 'DELETE' });
  check(againErased.status === 204, `erase again: ${againErased.status}`);
  // Then going back a step and forth again shows the step as it is now:
  // erased, not as the page or the browser kept it
  await page.locator('#timeline .step').nth(1).click();
  await page.locator('#then h3', { hasText: 'After step 2' }).waitFor();
  await page.locator('#timeline .step').nth(2).click();
  await page.locator('#then h3', { hasText: 'After step 3' }).waitFor();
  await page.locator('#then', { hasText: 'Personal data' }).waitFor();
  check(!(await page.textContent('#then')).includes('Hopper'), 'the step still shows the erased address');
});