// The live feed: GET /v1/events as text/event-stream, read with fetch(),
// since an EventSource cannot send the Authorization header the API asks
// for. It reconnects as an EventSource would: after the server's `retry:`
// (or when a refusal says, Retry-After), sending the last id it got in
// Last-Event-ID, so that nothing is lost or seen twice.
import { problemOf } from './api.js';

// Parser reads the event stream format (the HTML standard's
// "server-sent events") from text in pieces as they arrive.
export class Parser {
  #buffer = '';
  #afterCR = false;
  #data = [];
  #event = '';
  #id = null;

  constructor(lastEventId = '') {
    this.lastEventId = lastEventId;
    this.retry = null;
  }

  // push takes the next piece of text and returns the messages it
  // completes, each {id, event, data}.
  push(text) {
    if (text === '') return [];
    // A \r that ended the last piece may be the first half of a \r\n.
    if (this.#afterCR && text.startsWith('\n')) text = text.slice(1);
    this.#afterCR = false;
    this.#buffer += text;
    const out = [];
    for (;;) {
      const end = this.#buffer.search(/\r\n|\r|\n/);
      if (end < 0) break;
      const eol = this.#buffer.startsWith('\r\n', end) ? 2 : 1;
      this.#afterCR = eol === 1 && this.#buffer[end] === '\r' && end === this.#buffer.length - 1;
      const line = this.#buffer.slice(0, end);
      this.#buffer = this.#buffer.slice(end + eol);
      const message = this.#line(line);
      if (message) out.push(message);
    }
    return out;
  }

  #line(line) {
    if (line === '') return this.#dispatch();
    if (line.startsWith(':')) return null;
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'data') this.#data.push(value);
    else if (field === 'event') this.#event = value;
    else if (field === 'id' && !value.includes('\0')) this.#id = value;
    else if (field === 'retry' && /^\d+$/.test(value)) this.retry = Number(value);
    return null;
  }

  #dispatch() {
    // The id counts even for a message without data, as in EventSource.
    if (this.#id !== null) this.lastEventId = this.#id;
    const message = this.#data.length === 0 ? null
      : { id: this.lastEventId, event: this.#event || 'message', data: this.#data.join('\n') };
    this.#data = [];
    this.#event = '';
    this.#id = null;
    return message;
  }
}

// follow reads the stream at url for as long as it is not closed,
// reconnecting from the last id. It tells on: onOpen(), onMessage({id,
// event, data}), onWait(why, ms) before a reconnection, and onStop(problem)
// when the API refuses the stream for a reason retrying cannot mend (a
// token refused or without the role, a cursor not valid). bearer() is
// read at each connection.
export function follow(url, { bearer, lastEventId = '', onOpen, onMessage, onWait, onStop }) {
  const abort = new AbortController();
  let lastId = lastEventId;
  let retry = 2000;
  (async () => {
    while (!abort.signal.aborted) {
      let why = 'the stream ended';
      let wait = retry;
      try {
        const headers = { Accept: 'text/event-stream', Authorization: `Bearer ${bearer()}` };
        if (lastId) headers['Last-Event-ID'] = lastId;
        const resp = await fetch(url, { headers, signal: abort.signal, cache: 'no-store' });
        if (!resp.ok) {
          const problem = await problemOf(resp);
          if ([400, 401, 403, 404, 422].includes(resp.status)) {
            onStop(problem);
            return;
          }
          why = problem.detail || problem.title;
          wait = Math.max(retry, 1000 * Number(resp.headers.get('Retry-After') || 0));
        } else {
          onOpen();
          const parser = new Parser(lastId);
          const reader = resp.body.pipeThrough(new TextDecoderStream()).getReader();
          for (;;) {
            const { value, done } = await reader.read();
            if (done) break;
            for (const message of parser.push(value)) onMessage(message);
            lastId = parser.lastEventId;
            retry = parser.retry ?? retry;
          }
          lastId = parser.lastEventId;
          wait = retry;
        }
      } catch (err) {
        if (abort.signal.aborted) return;
        why = `the connection failed (${err.message || err})`;
      }
      onWait(why, wait);
      await new Promise((resolve) => {
        const timer = setTimeout(resolve, wait);
        abort.signal.addEventListener('abort', () => { clearTimeout(timer); resolve(); }, { once: true });
      });
    }
  })();
  return { close: () => abort.abort() };
}
