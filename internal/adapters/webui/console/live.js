// The live panel: the global feed as it happens (GET /v1/events as a
// stream, from the newest event on), and how far behind each projection
// is (GET /v1/projections, every few seconds). Both need the staff or
// service role; for anyone else the panel says so and stops.
import { api, explain } from './api.js';
import { eventName, isOrderID } from './describe.js';
import { $, fill, h, problemBox, when } from './dom.js';
import { token } from './session.js';
import { follow } from './stream.js';

const refreshEvery = 5000;
const kept = 50;

export class LivePanel {
  #stream = null;
  #timer = null;
  #onEvent;
  #openOrder;
  #openCustomer;

  // onEvent(event) is told of each event of the feed; openOrder(id) shows
  // an order, openCustomer(id) a customer's orders.
  constructor({ onEvent, openOrder, openCustomer }) {
    this.#onEvent = onEvent;
    this.#openOrder = openOrder;
    this.#openCustomer = openCustomer;
  }

  async start() {
    this.stop();
    fill($('#feed'));
    fill($('#projections tbody'));
    $('#live-body').hidden = true;
    this.#status('Connecting…');
    let first;
    try {
      first = await this.#projections();
    } catch (err) {
      return this.#refused(err);
    }
    // The feed from now on: the inline projections' position is the
    // newest committed event, and a cursor the feed continues after.
    $('#live-body').hidden = false;
    const from = first.projections.find((p) => p.mode === 'inline')?.position.cursor ?? '';
    this.#stream = follow('/v1/events', {
      bearer: token,
      lastEventId: from,
      onOpen: () => this.#status('Live: new events appear below as they happen.'),
      onMessage: (m) => this.#message(m),
      onWait: (why, ms) => this.#status(`Reconnecting in ${Math.round(ms / 1000)} s: ${why}.`),
      onStop: (problem) => this.#refused(problem),
    });
    this.#timer = setInterval(() => this.#projections().catch((err) => this.#refused(err)), refreshEvery);
  }

  stop() {
    this.#stream?.close();
    this.#stream = null;
    clearInterval(this.#timer);
    this.#timer = null;
    problemBox($('#live-problem'), null);
  }

  #status(text) {
    fill($('#live-status'), text);
  }

  #refused(err) {
    this.stop();
    $('#live-body').hidden = true;
    this.#status(err.status === 403 ? 'The live panel needs the staff or service role.' : 'Stopped.');
    problemBox($('#live-problem'), explain(err));
  }

  async #projections() {
    const report = await api('/v1/projections');
    fill($('#projections tbody'), report.projections.map((p) => h('tr', { 'data-name': p.name },
      h('th', { scope: 'row' }, p.name, h('span.mode', {}, p.mode)),
      h('td.num', {}, `${p.lag_events} ${p.lag_events === 1 ? 'event' : 'events'}`, h('span.mode', {}, `${p.lag_seconds.toFixed(1)} s`),
        p.stalled ? h('span.badge.status-cancelled', { title: p.stalled.reason }, `stopped: ${p.stalled.code}`) : null))));
    return report;
  }

  #message(m) {
    let e;
    try {
      e = JSON.parse(m.data);
    } catch {
      return;
    }
    const list = $('#feed');
    const about = this.#subject(e);
    list.prepend(h('li', { 'data-type': e.type, ...about.attrs },
      h(`span.type.type-${e.type}`, {}, eventName(e.type)), ' ',
      about.link, h('span.muted', {}, ` v${e.version} · `, when(e.occurred_at))));
    while (list.children.length > kept) list.lastElementChild.remove();
    this.#onEvent(e);
  }

  // #subject is what an event of the feed is about, and a way to it: its
  // order, or, for an event of a customer's stream (an erasure), which no
  // order page shows, the customer's orders.
  #subject(e) {
    if (isOrderID(e.order_id)) {
      return {
        attrs: { 'data-order': e.order_id },
        link: h('button.link', { type: 'button', onclick: () => this.#openOrder(e.order_id), title: `Open order ${e.order_id}` },
          e.order_id.slice(0, 8)),
      };
    }
    const customer = e.data?.customer_id;
    if (!customer) return { attrs: {}, link: h('code', {}, e.order_id.slice(0, 8)) };
    return {
      attrs: { 'data-customer': customer },
      link: h('span', {}, 'customer ', h('button.link', { type: 'button', onclick: () => this.#openCustomer(customer), title: `Orders of customer ${customer}` },
        customer.slice(0, 8))),
    };
  }
}
