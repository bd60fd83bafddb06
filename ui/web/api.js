// The JSON API. Requests carry the session cookie (same origin only); a 401 anywhere shows the
// login form. The token itself never passes through this code.

export class ApiError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

let onUnauthorized = () => {};
export function setUnauthorizedHandler(fn) { onUnauthorized = fn; }

async function request(method, path, body) {
  const init = {method, credentials: 'same-origin', headers: {Accept: 'application/json'},
    cache: 'no-store'};
  if (body !== undefined) {
    init.headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  let res;
  try {
    res = await fetch(path, init);
  } catch (e) {
    throw new ApiError(0, `tocsin is not reachable (${e.message})`);
  }
  if (res.status === 401) {
    onUnauthorized();
    throw new ApiError(401, 'not logged in');
  }
  const text = await res.text();
  if (!res.ok) {
    let msg = text.trim();
    try { const j = JSON.parse(text); if (typeof j === 'string') msg = j; else if (j && j.error) msg = j.error; } catch { /* plain text */ }
    throw new ApiError(res.status, `${method} ${path.split('?')[0]}: ${res.status} ${msg}`);
  }
  return text ? JSON.parse(text) : null;
}

export const get = (path) => request('GET', path);
export const post = (path, body) => request('POST', path, body);
export const del = (path) => request('DELETE', path);

export function qs(params) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) {
    if (v !== undefined && v !== null && v !== '') q.append(k, String(v));
  }
  const t = q.toString();
  return t ? `?${t}` : '';
}

// Alert groups. Until the server has /api/v2/alerts/groups, group /api/v2/alerts by alertname.
export async function alertGroups(filter) {
  try {
    return await get(`/api/v2/alerts/groups${qs({filter})}`);
  } catch (e) {
    if (e.status !== 404) throw e;
  }
  const alerts = await get(`/api/v2/alerts${qs({filter})}`);
  const byName = new Map();
  for (const a of alerts) {
    const key = a.labels.alertname || '';
    if (!byName.has(key)) {
      byName.set(key, {labels: {alertname: key}, receiver: {name: (a.receivers[0] || {}).name || ''},
        alerts: [], groupKey: null, ack: null, escalation: null});
    }
    byName.get(key).alerts.push(a);
  }
  return [...byName.values()];
}
