// One order on screen: its current state, every event as a step of a
// timeline, and the order as it was at any step (GET ?version=N), with
// what that step changed against the one before.
import { api, explain } from './api.js';
import { actions, address, changes, diff, eventName } from './describe.js';
import { $, fill, h, problemBox, when } from './dom.js';

const lifecycle = ['draft', 'placed', 'shipped', 'delivered'];

export class OrderView {
  #section;
  #onCustomer;
  #order = null; // the order now
  #events = [];
  #selected = 0; // the version on view
  // version → Promise of the order then, kept while it shows no personal
  // data: nothing changes such a version, but the customer's erasure takes
  // personal data out of one.
  #versions = new Map();
  #shown = 0; // the last selection asked for, so that a slow answer does not replace a newer one

  // section is where the order is drawn; onCustomer(id) lists a
  // customer's orders.
  constructor(section, { onCustomer }) {
    this.#section = section;
    this.#onCustomer = onCustomer;
  }

  get id() {
    return this.#order?.id ?? null;
  }

  get customer() {
    return this.#order?.customer_id ?? null;
  }

  // open shows the order id, at its latest step. A problem is thrown for
  // the caller to show.
  async open(id) {
    const [order, events] = await Promise.all([api(`/v1/orders/${encodeURIComponent(id)}`), this.#history(id, 0)]);
    this.#order = order;
    this.#events = events;
    this.#versions = new Map();
    this.#render();
    await this.select(order.version);
  }

  // refresh catches up with new events of the order on screen: the
  // timeline grows, and a view of the latest step moves on to the new one.
  async refresh() {
    if (!this.#order) return;
    const id = this.#order.id;
    const last = this.#events.length;
    const [order, more] = await Promise.all([api(`/v1/orders/${id}`), this.#history(id, last)]);
    if (this.#order?.id !== id || more.length === 0) return;
    const following = this.#selected === last;
    this.#order = order;
    this.#events = this.#events.concat(more);
    this.#render();
    await this.select(following ? this.#events.length : this.#selected);
  }

  // reload reads the order on screen again, timeline and all, at the step
  // on view: after its customer's erasure, the page shows none of the
  // personal data it held.
  async reload() {
    if (!this.#order) return;
    const id = this.#order.id;
    const following = this.#selected === this.#events.length;
    const [order, events] = await Promise.all([api(`/v1/orders/${id}`), this.#history(id, 0)]);
    if (this.#order?.id !== id) return;
    const selected = following ? events.length : this.#selected;
    this.#order = order;
    this.#events = events;
    this.#versions = new Map();
    this.#render();
    await this.select(selected);
  }

  close() {
    this.#order = null;
    this.#section.hidden = true;
    this.#section.replaceChildren();
  }

  // history reads the order's events after version after, every page.
  async #history(id, after) {
    const events = [];
    for (let next = after; next !== null;) {
      const page = await api(`/v1/orders/${encodeURIComponent(id)}/events?limit=1000&after_version=${next}`);
      events.push(...page.events);
      next = page.next_after_version;
    }
    return events;
  }

  // at is the order after the event of version. One with personal data
  // is asked for again the next time: the browser revalidates its copy
  // (the API serves it no-cache), and gets it erased once it is.
  #at(version) {
    const kept = this.#versions;
    if (!kept.has(version)) {
      const p = api(`/v1/orders/${this.#order.id}?version=${version}`);
      const forget = () => kept.get(version) === p && kept.delete(version);
      p.then((o) => personal(o) && forget(), forget);
      kept.set(version, p);
    }
    return kept.get(version);
  }

  // select shows the order as it was after the event of version.
  async select(version, { focus = false } = {}) {
    const n = this.#events.length;
    version = Math.min(Math.max(1, version), n);
    this.#selected = version;
    const shown = ++this.#shown;
    for (const b of this.#section.querySelectorAll('.step')) {
      const on = Number(b.dataset.version) === version;
      if (on) b.setAttribute('aria-current', 'step');
      else b.removeAttribute('aria-current');
      b.tabIndex = on ? 0 : -1;
      if (on) reveal(b);
      if (on && focus) b.focus();
    }
    const slider = $('#step', this.#section);
    slider.value = String(version);
    fill($('#step-out', this.#section), `${version} of ${n}`);
    const then = $('#then', this.#section);
    try {
      const [now, before] = await Promise.all([this.#at(version), version > 1 ? this.#at(version - 1) : null]);
      if (shown !== this.#shown) return;
      fill(then, ...this.#state(now, before, this.#events[version - 1]));
    } catch (err) {
      if (shown !== this.#shown) return;
      fill(then, problemBox(h('div.problem', { role: 'alert' }), explain(err)));
    }
  }

  #render() {
    const o = this.#order;
    const steps = changes(this.#events);
    const n = this.#events.length;
    fill(this.#section,
      h('h2', { id: 'order-title' }, 'Order ', h('code', {}, o.id)),
      h('div.summary', {},
        h('ol.lifecycle', { 'aria-label': 'Status now' }, [...lifecycle, 'cancelled'].map((s) =>
          h(`li.status-${s}`, { 'aria-current': s === o.status ? 'true' : null }, s))),
        h('dl.facts', {},
          h('dt', {}, 'Customer'), h('dd', {}, h('button.link', { type: 'button', onclick: () => this.#onCustomer(o.customer_id) }, o.customer_id)),
          h('dt', {}, 'Total'), h('dd', {}, `${o.total} ${o.currency}`, h('span.muted', {}, ` · ${o.item_count} ${o.item_count === 1 ? 'unit' : 'units'}`)),
          h('dt', {}, 'Version'), h('dd', {}, String(o.version), h('span.muted', {}, ' · updated ', when(o.updated_at))),
          h('dt', {}, 'Allowed now'), h('dd', { id: 'allowed' }, o.allowed_actions.length > 0 ? actions(o.allowed_actions)
            : `nothing: the order is ${o.status}`))),
      h('div.history', {},
        h('div.steps', {},
          h('h3', { id: 'timeline-title' }, 'Timeline'),
          h('p.slider', {},
            h('label', { for: 'step' }, 'Step ', h('output', { id: 'step-out', for: 'step' })),
            h('input', { id: 'step', type: 'range', min: 1, max: n, step: 1, value: n,
              oninput: (e) => this.select(Number(e.target.value)) })),
          h('ol.timeline', { id: 'timeline', 'aria-labelledby': 'timeline-title', onkeydown: (e) => this.#key(e) },
            this.#events.map((e, i) => h('li', {},
              h('button.step', { type: 'button', 'data-version': e.version, 'data-type': e.type, tabindex: -1,
                onclick: () => this.select(e.version) },
              h('span.head', {},
                h('span.v', {}, String(e.version)),
                h(`span.type.type-${e.type}`, {}, eventName(e.type)),
                i === n - 1 ? h('span.now', {}, 'now') : null),
              h('span.meta', {}, 'by ', actor(e.metadata), ' · ', when(e.occurred_at)),
              steps[i].map((line) => h('span.what', {}, line))))))),
        h('div.then', { id: 'then', 'aria-live': 'polite' })));
    this.#section.hidden = false;
  }

  // Arrow keys, Home and End move along the timeline.
  #key(e) {
    const step = { ArrowUp: -1, ArrowLeft: -1, ArrowDown: 1, ArrowRight: 1 }[e.key];
    let to = step ? this.#selected + step : null;
    if (e.key === 'Home') to = 1;
    if (e.key === 'End') to = this.#events.length;
    if (to === null) return;
    e.preventDefault();
    this.select(to, { focus: true });
  }

  // state is the order as it was (now) after event, and what it changed
  // against the step before.
  #state(now, before, event) {
    const changed = diff(before, now);
    return [
      h('h3', {}, `After step ${now.version}: ${eventName(event.type)}`),
      h('p', {}, h(`span.badge.status-${now.status}`, {}, now.status), ' ',
        `${now.total} ${now.currency}`, h('span.muted', {}, ` · ${now.item_count} ${now.item_count === 1 ? 'unit' : 'units'}`)),
      now.items.length === 0 ? h('p.muted', {}, 'No items.') : h('table.items', {},
        h('caption.visually-hidden', {}, `Items at step ${now.version}`),
        h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'Product'), h('th.num', { scope: 'col' }, 'Qty'),
          h('th.num', { scope: 'col' }, 'Price'), h('th.num', { scope: 'col' }, 'Line'))),
        h('tbody', {}, now.items.map((i) => h('tr', {}, h('td', {}, i.product_name), h('td.num', {}, String(i.quantity)),
          h('td.num', {}, i.unit_price), h('td.num', {}, i.line_total)))),
        h('tfoot', {}, h('tr', {}, h('th', { scope: 'row', colspan: 3 }, 'Total'), h('td.num', {}, now.total)))),
      h('dl.facts', {},
        now.shipping_address ? [h('dt', {}, 'Ship to'), h('dd', {}, address(now.shipping_address))] : null,
        now.carrier ? [h('dt', {}, 'Shipped'), h('dd', {}, `${now.carrier}, ${now.tracking_number}`)] : null,
        now.delivered_at ? [h('dt', {}, 'Delivered'), h('dd', {}, when(now.delivered_at), now.signature ? `, signed by ${now.signature}` : '')] : null,
        now.cancelled_at ? [h('dt', {}, 'Cancelled'), h('dd', {}, `by ${now.cancelled_by}`, now.cancel_reason ? `: “${now.cancel_reason}”` : '')] : null,
        now.erased ? [h('dt', {}, 'Personal data'), h('dd', {}, 'erased')] : null,
        h('dt', {}, 'Allowed then'), h('dd', {}, actions(now.allowed_actions) || 'nothing')),
      h('h4', {}, now.version === 1 ? 'This step' : `Changed since step ${now.version - 1}`),
      h('ul.diff', {}, changed.map((c) => h('li', {}, h('span.what', {}, c.what), ' ',
        c.from ? h('del', {}, c.from) : null, c.from && c.to ? ' → ' : null, c.to ? h('ins', {}, c.to) : h('span.muted', {}, 'gone')))),
    ];
  }
}

// personal reports whether an order shows personal data, which the
// customer's erasure takes out.
function personal(o) {
  return Boolean(o.shipping_address || o.signature || o.cancel_reason);
}

// reveal scrolls the timeline, and only the timeline, to show step.
function reveal(step) {
  const list = step.closest('.timeline');
  const top = step.offsetTop;
  if (top < list.scrollTop || top + step.offsetHeight > list.scrollTop + list.clientHeight) {
    list.scrollTop = top - (list.clientHeight - step.offsetHeight) / 2;
  }
}

// actor is who did an event, as its metadata records.
function actor(m) {
  if (!m?.actor) return 'someone unrecorded';
  return m.actor_roles?.length > 0 ? `${m.actor} (${m.actor_roles.join(', ')})` : m.actor;
}
