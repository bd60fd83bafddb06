// DOM helpers. Every value from the server becomes a text node or an attribute value set through
// the DOM API: nothing here parses HTML, so a log line or a label can never become markup.

// h('div', {class: 'x', onclick: fn}, 'text', child, [more]) → an element.
export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  setAttrs(el, attrs);
  append(el, children);
  return el;
}

const SVG = 'http://www.w3.org/2000/svg';

export function s(tag, attrs, ...children) {
  const el = document.createElementNS(SVG, tag);
  setAttrs(el, attrs);
  append(el, children);
  return el;
}

function setAttrs(el, attrs) {
  if (!attrs) return;
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on') && typeof v === 'function') {
      el.addEventListener(k.slice(2), v);
    } else if (k === 'value' || k === 'checked' || k === 'disabled' || k === 'hidden') {
      el[k] = v;
    } else if (k === 'dataset') {
      Object.assign(el.dataset, v);
    } else {
      el.setAttribute(k, v === true ? '' : String(v));
    }
  }
}

export function append(el, children) {
  for (const c of children.flat(Infinity)) {
    if (c === undefined || c === null || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

export function clear(el) {
  while (el.firstChild) el.firstChild.remove();
  return el;
}

// Label chips: name="value".
export function labelChips(labels, skip = new Set()) {
  return h('span', {class: 'labels'},
    Object.keys(labels || {}).sort().filter((k) => !skip.has(k)).map((k) =>
      h('span', {class: 'chip', title: `${k}="${labels[k]}"`},
        h('span', {class: 'k'}, k), '=', h('span', {class: 'v'}, labels[k]))));
}

// Times --------------------------------------------------------------------------------------

export function parseTime(t) {
  if (!t) return null;
  const d = new Date(t);
  return Number.isNaN(d.getTime()) || d.getFullYear() < 1971 ? null : d;
}

const pad = (n) => String(n).padStart(2, '0');

export function fmtTime(t) {
  const d = t instanceof Date ? t : parseTime(t);
  if (!d) return '—';
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ` +
         `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

export function fmtDuration(ms) {
  if (ms === null || ms === undefined || Number.isNaN(ms)) return '—';
  const neg = ms < 0;
  let sec = Math.round(Math.abs(ms) / 1000);
  const parts = [];
  const d = Math.floor(sec / 86400); sec -= d * 86400;
  const hr = Math.floor(sec / 3600); sec -= hr * 3600;
  const m = Math.floor(sec / 60); sec -= m * 60;
  if (d) parts.push(`${d}d`);
  if (hr) parts.push(`${hr}h`);
  if (m && !d) parts.push(`${m}m`);
  if (!d && !hr && (sec || !parts.length)) parts.push(`${sec}s`);
  return (neg ? '-' : '') + parts.join(' ');
}

// A <time> with the absolute time as text and "5m ago" / "in 2h" in its title, or the reverse.
export function timeEl(t, relative = true) {
  const d = t instanceof Date ? t : parseTime(t);
  if (!d) return h('span', {class: 'muted'}, '—');
  const delta = d.getTime() - Date.now();
  const rel = delta < 0 ? `${fmtDuration(-delta)} ago` : `in ${fmtDuration(delta)}`;
  return h('time', {datetime: d.toISOString(), title: relative ? fmtTime(d) : rel},
    relative ? rel : fmtTime(d));
}

// "90s", "15m", "2h", "1d", "1h30m" → milliseconds; null when it does not parse.
export function parseDuration(text) {
  const re = /(\d+(?:\.\d+)?)\s*(ms|s|m|h|d|w)/gy;
  const unit = {ms: 1, s: 1e3, m: 6e4, h: 36e5, d: 864e5, w: 6048e5};
  const t = String(text).trim();
  if (!t) return null;
  let total = 0; let m; let end = 0;
  re.lastIndex = 0;
  while ((m = re.exec(t)) !== null) {
    total += parseFloat(m[1]) * unit[m[2]];
    end = re.lastIndex;
    while (t[end] === ' ') end++;
    re.lastIndex = end;
  }
  return end === t.length && total > 0 ? total : null;
}

// "2026-01-02T03:04:05Z", "2026-01-02 03:04" (local), "1h" (ago), "now" → Date or null.
export function parseWhen(text, now = new Date()) {
  const t = String(text || '').trim();
  if (!t) return null;
  if (t === 'now') return now;
  const ago = parseDuration(t.replace(/^-/, '').replace(/\s*ago$/, ''));
  if (ago !== null) return new Date(now.getTime() - ago);
  const d = new Date(t.includes('T') || t.endsWith('Z') ? t : t.replace(' ', 'T'));
  return Number.isNaN(d.getTime()) ? null : d;
}

// Matchers ------------------------------------------------------------------------------------

// Alertmanager matchers `{a="1", b=~"x.*"}` or `a="1", b!="2"` → [{name, value, isRegex,
// isEqual}]; throws Error with a readable message when the text does not parse.
export function parseMatchers(text) {
  let t = String(text || '').trim();
  if (t.startsWith('{') && t.endsWith('}')) t = t.slice(1, -1);
  const out = [];
  let i = 0;
  const ws = () => { while (i < t.length && /[\s,]/.test(t[i])) i++; };
  ws();
  while (i < t.length) {
    const nm = /^[A-Za-z_][A-Za-z0-9_]*/.exec(t.slice(i));
    if (!nm) throw new Error(`expected a label name at "${t.slice(i, i + 12)}"`);
    i += nm[0].length;
    while (t[i] === ' ') i++;
    const op = /^(=~|!~|!=|=)/.exec(t.slice(i));
    if (!op) throw new Error(`expected =, !=, =~ or !~ after ${nm[0]}`);
    i += op[0].length;
    while (t[i] === ' ') i++;
    let value = '';
    if (t[i] === '"') {
      i++;
      while (i < t.length && t[i] !== '"') {
        if (t[i] === '\\' && i + 1 < t.length) i++;
        value += t[i++];
      }
      if (t[i] !== '"') throw new Error(`unterminated quote in the value of ${nm[0]}`);
      i++;
    } else {
      while (i < t.length && t[i] !== ',') value += t[i++];
      value = value.trim();
    }
    out.push({name: nm[0], value, isRegex: op[0].includes('~'), isEqual: !op[0].startsWith('!')});
    ws();
  }
  return out;
}

export function matcherText(m) {
  const op = (m.isEqual === false ? '!' : '') + (m.isRegex ? '~' : '=');
  const fixed = op === '!=' || op === '=~' || op === '!~' ? op : '=';
  return `${m.name}${fixed}"${String(m.value).replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

export function labelsToMatchers(labels) {
  return Object.keys(labels).sort().map((k) => matcherText({name: k, value: labels[k],
    isRegex: false, isEqual: true})).join(', ');
}

// Hash routes --------------------------------------------------------------------------------

export function route() {
  const hash = location.hash.replace(/^#\/?/, '');
  const q = hash.indexOf('?');
  const page = (q < 0 ? hash : hash.slice(0, q)) || 'alerts';
  return {page, params: new URLSearchParams(q < 0 ? '' : hash.slice(q + 1))};
}

export function link(page, params) {
  const q = params ? new URLSearchParams(Object.entries(params).filter(([, v]) => v !== '' &&
    v !== null && v !== undefined)).toString() : '';
  return `#/${page}${q ? `?${q}` : ''}`;
}

// Distinct colours, one a person (the on-call rota).
export const PALETTE = ['#74c0fc', '#ffa8a8', '#8ce99a', '#ffd43b', '#b197fc', '#ffc078', '#63e6be',
  '#faa2c1', '#a9e34b', '#99e9f2', '#e599f7', '#ced4da'];

export function yourName() {
  return (localStorage.getItem('tocsin.name') || '').trim();
}
