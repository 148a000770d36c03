// The console's every call: the public API, with the signed-in user's
// bearer token. An error answer becomes a Problem, read from the API's
// application/problem+json.
import { token } from './session.js';

export class Problem extends Error {
  constructor(status, doc = {}) {
    super(doc.detail || doc.title || `HTTP ${status}`);
    this.status = status;
    this.title = doc.title || `HTTP ${status}`;
    this.detail = doc.detail || '';
    this.code = doc.code || '';
    this.requestId = doc.request_id || '';
    this.errors = Array.isArray(doc.errors) ? doc.errors : [];
  }
}

// problemOf reads an error answer.
export async function problemOf(resp) {
  let doc = {};
  if ((resp.headers.get('Content-Type') || '').startsWith('application/problem+json')) {
    doc = await resp.json().catch(() => ({}));
  }
  return new Problem(resp.status, doc);
}

// api calls the API at path (with its query) and returns the JSON answer.
export async function api(path, { method = 'GET', body, signal, bearer = token() } = {}) {
  const headers = { Accept: 'application/json' };
  if (bearer) headers.Authorization = `Bearer ${bearer}`;
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  const resp = await fetch(path, { method, headers, signal, body: body === undefined ? undefined : JSON.stringify(body) });
  if (!resp.ok) throw await problemOf(resp);
  return resp.json();
}

// explain turns what a call threw into words for its reader: the API's
// own title and detail, and what to do next where that is clear.
export function explain(err) {
  if (!(err instanceof Problem)) {
    return { title: 'The service could not be reached.', detail: String(err.message || err), hint: 'Check that it runs, then try again.' };
  }
  const fields = err.errors.map((e) => `${e.field}: ${e.message}`).join('; ');
  const hint = {
    401: 'Sign out, and sign in with a valid token.',
    403: 'Your token does not have a role that may do this.',
    429: 'Wait a moment, then try again.',
    503: 'Try again in a moment.',
  }[err.status];
  return {
    title: `${err.title} (${err.status}${err.code ? ` ${err.code}` : ''}).`,
    detail: [err.detail, fields].filter(Boolean).join(' — '),
    hint,
  };
}
