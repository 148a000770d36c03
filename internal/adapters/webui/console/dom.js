// Building the page from data. Text always goes in as text nodes, never
// as HTML, so nothing the API returns can become markup; and no element
// gets a style attribute, which the page's policy would refuse.

// h makes an element: h('li.step.current', {type: 'button', onclick}, ...children).
// Attributes that are null, undefined or false are left out; on* are
// listeners; children are nodes, text, or arrays of them.
export function h(tag, attrs = {}, ...children) {
  const [name, ...classes] = tag.split('.');
  const el = document.createElement(name);
  if (classes.length > 0) el.className = classes.join(' ');
  for (const [k, v] of Object.entries(attrs ?? {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  el.append(...nodes(children));
  return el;
}

// fill replaces el's children.
export function fill(el, ...children) {
  el.replaceChildren(...nodes(children));
  return el;
}

function nodes(children) {
  return children.flat(Infinity).filter((c) => c !== null && c !== undefined && c !== false)
    .map((c) => (c instanceof Node ? c : String(c)));
}

export const $ = (selector, root = document) => root.querySelector(selector);

// when is a time from the API as a <time>, in the reader's time zone,
// with the exact UTC value as its title.
export function when(iso) {
  if (!iso) return '';
  const d = new Date(iso);
  const text = Number.isNaN(d.getTime()) ? iso : d.toLocaleString(undefined, {
    year: 'numeric', month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit', second: '2-digit',
  });
  return h('time', { datetime: iso, title: iso }, text);
}

// problemBox shows what went wrong in box, or hides it for null.
export function problemBox(box, explained) {
  box.hidden = !explained;
  if (!explained) return box.replaceChildren();
  return fill(box, h('strong', {}, explained.title), explained.detail ? h('span', {}, explained.detail) : null,
    explained.hint ? h('span.hint', {}, explained.hint) : null);
}
