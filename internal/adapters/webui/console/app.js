// The console: sign in, find an order or a customer's orders, follow an
// order's life on its timeline, and watch the feed live.
import { api, explain } from './api.js';
import { $, fill, h, problemBox, when } from './dom.js';
import { LivePanel } from './live.js';
import { OrderView } from './order.js';
import * as session from './session.js';

const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

const view = new OrderView($('#order'), { onCustomer: (id) => listOrders(id) });
const live = new LivePanel({
  openOrder: (id) => openOrder(id),
  openCustomer: (id) => listOrders(id),
  onEvent: (e) => {
    const told = (err) => problemBox($('#find-problem'), explain(err));
    if (e.order_id === view.id) view.refresh().catch(told);
    // The erasure of the customer on screen takes personal data out of
    // what the page holds.
    else if (e.type === 'CustomerPersonalDataErased' && e.data?.customer_id === view.customer) view.reload().catch(told);
  },
});

// Signing in and out.

async function showSignIn() {
  $('#who').hidden = true;
  $('#workspace').hidden = true;
  $('#sign-in').hidden = false;
  $('#dev-form').hidden = !(await session.devTokens().catch(() => false));
  $('#token-input').focus();
}

function showWorkspace() {
  const c = session.claims();
  fill($('#who-name'), c.sub || 'a token holder');
  fill($('#who-roles'), Array.isArray(c.roles) ? c.roles.join(', ') : typeof c.roles === 'string' ? c.roles : '');
  $('#who').hidden = false;
  $('#sign-in').hidden = true;
  problemBox($('#sign-in-problem'), null);
  $('#workspace').hidden = false;
  // A customer's own orders are the obvious place to start.
  if (uuid.test(c.sub || '') && !$('#customer-id').value) $('#customer-id').value = c.sub;
  // The sign-in's button is gone: the keyboard goes on from finding.
  $('#order-id').focus();
  live.start();
  route();
}

$('#token-form').addEventListener('submit', (e) => {
  e.preventDefault();
  session.signIn($('#token-input').value);
  $('#token-input').value = '';
  showWorkspace();
});

function pickedRole() {
  return $('#dev-form').elements.role.value;
}

$('#dev-form').addEventListener('change', () => {
  $('#dev-customer-field').hidden = pickedRole() !== 'customer';
});

$('#dev-customer-new').addEventListener('click', () => {
  $('#dev-customer').value = crypto.randomUUID();
});

$('#dev-form').addEventListener('submit', async (e) => {
  e.preventDefault();
  const role = pickedRole();
  const body = { roles: [role] };
  if (role === 'customer') body.subject = $('#dev-customer').value.trim();
  try {
    const { token } = await api('/console/dev/token', { method: 'POST', body, bearer: null });
    session.signIn(token);
    showWorkspace();
  } catch (err) {
    problemBox($('#sign-in-problem'), explain(err));
  }
});

$('#sign-out').addEventListener('click', () => {
  live.stop();
  view.close();
  session.signOut();
  fill($('#customer-orders'));
  $('#customer-orders').hidden = true;
  problemBox($('#find-problem'), null);
  history.replaceState(null, '', location.pathname);
  showSignIn();
});

// Finding orders.

// The order on screen is in the URL's fragment (#order=<id>), so that a
// reload, or a link, shows it again.
function route() {
  const id = new URLSearchParams(location.hash.slice(1)).get('order');
  if (id && id !== view.id) show(id);
}

window.addEventListener('hashchange', () => session.token() && route());

function openOrder(id) {
  if (location.hash === `#order=${id}`) return show(id);
  location.hash = `order=${id}`;
}

async function show(id) {
  problemBox($('#find-problem'), null);
  $('#order-id').value = id;
  try {
    await view.open(id);
  } catch (err) {
    view.close();
    problemBox($('#find-problem'), explain(err));
  }
}

$('#find-order').addEventListener('submit', (e) => {
  e.preventDefault();
  const id = $('#order-id').value.trim().toLowerCase();
  if (!uuid.test(id)) {
    return problemBox($('#find-problem'), { title: 'That is not an order id.', detail: 'An order id is a UUID, such as 0190d6c9-0000-7000-8000-000000000001.' });
  }
  openOrder(id);
});

$('#find-customer').addEventListener('submit', (e) => {
  e.preventDefault();
  listOrders($('#customer-id').value.trim().toLowerCase());
});

// listOrders shows a customer's orders, newest first, a page at a time
// (the list's next_cursor pages on).
async function listOrders(customer, cursor = null) {
  $('#customer-id').value = customer;
  problemBox($('#find-problem'), null);
  const box = $('#customer-orders');
  const query = new URLSearchParams({ limit: '20' });
  const status = $('#customer-status').value;
  if (status) query.set('status', status);
  if (cursor) query.set('cursor', cursor);
  let page;
  try {
    page = await api(`/v1/customers/${encodeURIComponent(customer)}/orders?${query}`);
  } catch (err) {
    return problemBox($('#find-problem'), explain(err));
  }
  let body = $('tbody', box);
  if (!cursor || !body) {
    body = h('tbody');
    fill(box, h('h3', { id: 'orders-title' }, 'Orders of customer ', h('code', {}, customer)),
      h('table.orders-list', { 'aria-labelledby': 'orders-title' },
        h('thead', {}, h('tr', {}, ['Order', 'Status', 'Units', 'Total', 'Updated'].map((c) => h('th', { scope: 'col' }, c)))),
        body));
  }
  $('.more', box)?.remove();
  body.append(...page.orders.map((o) => h('tr', {},
    h('td', {}, h('button.link', { type: 'button', onclick: () => openOrder(o.id) }, h('code', {}, o.id))),
    h('td', {}, h(`span.badge.status-${o.status}`, {}, o.status)),
    h('td.num', {}, String(o.item_count)),
    h('td.num', {}, `${o.total} ${o.currency}`),
    h('td', {}, when(o.updated_at)))));
  if (page.orders.length === 0 && !cursor) body.append(h('tr', {}, h('td', { colspan: 5 }, 'No orders.')));
  if (page.next_cursor) box.append(h('button.more', { type: 'button', onclick: () => listOrders(customer, page.next_cursor) }, 'More orders'));
  box.hidden = false;
}

if (session.token()) showWorkspace();
else showSignIn();
