// The tocsin web UI: hash routing between pages, a 5 s refresh while the tab is visible, the
// login form when the API answers 401. No framework, no build step; see README "Web UI".
import {setUnauthorizedHandler} from './api.js';
import {clear, h, route} from './dom.js';
import alerts from './alerts.js';
import silences from './silences.js';
import oncall from './oncall.js';
import rules from './rules.js';
import tail from './tail.js';
import search from './search.js';

const pages = {alerts, silences, oncall, rules, tail, search};
const REFRESH_MS = 5000;

const view = document.getElementById('view');
const banner = document.getElementById('banner');
const live = document.getElementById('live');
let current = null;  // {page, instance}
let timer = null;
let loggedOut = false;

// Errors of the last refresh, shown above the page until the next one succeeds.
export function showError(err) {
  if (err && err.status === 401) return;
  banner.hidden = !err;
  clear(banner);
  if (err) banner.append(h('span', null, String(err.message || err)));
}

function showLogin() {
  if (loggedOut) return;
  loggedOut = true;
  stopPage();
  document.getElementById('login').hidden = false;
  document.body.classList.add('logged-out');
  clear(view);
  banner.hidden = true;
  document.getElementById('token').focus();
}
setUnauthorizedHandler(showLogin);

function stopPage() {
  if (current && current.instance.stop) current.instance.stop();
  current = null;
  clearTimeout(timer);
}

async function refresh() {
  clearTimeout(timer);
  if (!current || loggedOut) return;
  const mine = current;
  if (!document.hidden && mine.instance.refresh) {
    try {
      await mine.instance.refresh();
      if (current === mine) showError(null);
      live.classList.remove('stale');
      live.title = `Updated ${new Date().toLocaleTimeString()}; refreshes every 5 seconds`;
    } catch (e) {
      if (current === mine) showError(e);
      live.classList.add('stale');
    }
  }
  if (current === mine) timer = setTimeout(refresh, REFRESH_MS);
}

function navigate() {
  if (loggedOut) return;
  const {page, params} = route();
  const mod = pages[page] || pages.alerts;
  stopPage();
  for (const a of document.querySelectorAll('#nav a')) {
    a.classList.toggle('active', a.dataset.page === page);
    if (a.dataset.page === page) a.setAttribute('aria-current', 'page'); else a.removeAttribute('aria-current');
  }
  document.title = `${mod.title} · tocsin`;
  clear(view);
  showError(null);
  current = {page, instance: mod.mount(view, params, {showError, refreshNow: () => refresh()})};
  refresh();
}

function start() {
  const name = document.getElementById('your-name');
  name.value = localStorage.getItem('tocsin.name') || '';
  name.addEventListener('input', () => localStorage.setItem('tocsin.name', name.value.trim()));
  if (new URLSearchParams(location.search).get('login') === 'failed') {
    document.getElementById('login-failed').hidden = false;
    history.replaceState(null, '', `/${location.hash}`);
  }
  window.addEventListener('hashchange', navigate);
  // Back in view: refresh at once rather than up to 5 s later.
  document.addEventListener('visibilitychange', () => {
    live.classList.toggle('paused', document.hidden);
    if (!document.hidden) refresh();
  });
  // Closing or leaving the tab ends a live tail's stream.
  window.addEventListener('pagehide', stopPage);
  // Back from the browser's page cache: start the page again.
  window.addEventListener('pageshow', (e) => { if (e.persisted) navigate(); });
  if (!location.hash) history.replaceState(null, '', '#/alerts');
  navigate();
}

start();
