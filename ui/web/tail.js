// Live tail: events matching a filter as they arrive, by server-sent events. The stream closes
// when the page changes or the tab closes.
import {clear, h, link} from './dom.js';
import {eventHead, eventRow} from './events.js';

const KEEP = 500;

export default {
  title: 'Live tail',
  mount(view, params) {
    const filter = params.get('filter') || '';
    const input = h('input', {type: 'search', name: 'filter', value: filter, size: 50, spellcheck: 'false',
      placeholder: 'app="sshd" severity="err" failed', 'aria-label': 'Filter'});
    const status = h('span', {class: 'tail-status muted'}, 'connecting…');
    const body = h('tbody');
    const pauseBtn = h('button', {type: 'button'}, 'Pause');
    let paused = false; let received = 0; let dropped = 0; const held = [];
    pauseBtn.addEventListener('click', () => {
      paused = !paused;
      pauseBtn.textContent = paused ? 'Resume' : 'Pause';
      if (!paused) held.splice(0).forEach(add);
    });
    view.append(h('div', {class: 'toolbar'},
      h('form', {class: 'filter', onsubmit: (e) => { e.preventDefault(); location.hash = link('tail', {filter: input.value.trim()}); }},
        h('label', null, 'Filter ', input), h('button', {type: 'submit'}, 'Tail')),
      pauseBtn, h('button', {type: 'button', onclick: () => clear(body)}, 'Clear'), status),
    h('p', {class: 'muted hint'}, 'Terms: field OP "value" with OP one of = != =~ !~ (fields: host, app, severity, message, …), or bare words the message contains. Newest lines at the top; the last ', String(KEEP), ' are kept.'),
    h('table', {class: 'table events'}, eventHead(), body));

    // Lines are drawn once a frame, however fast they come.
    let batch = [];
    function flush() {
      const frag = document.createDocumentFragment();
      for (const ev of batch.splice(0).slice(-KEEP).reverse()) frag.append(eventRow(ev));
      body.prepend(frag);
      while (body.childElementCount > KEEP) body.lastElementChild.remove();
    }
    function add(ev) {
      if (!batch.length) requestAnimationFrame(flush);
      batch.push(ev);
    }
    function showStatus(state) {
      status.textContent = `${state} · ${received} line${received === 1 ? '' : 's'}` + (dropped ? ` · ${dropped} dropped (too fast for this tab)` : '');
    }

    const url = `/api/v1/tail${filter ? `?filter=${encodeURIComponent(filter)}` : ''}`;
    const source = new EventSource(url, {withCredentials: true});
    source.addEventListener('open', () => { status.classList.remove('error'); showStatus('live'); });
    source.addEventListener('line', (m) => {
      let ev;
      try { ev = JSON.parse(m.data); } catch { return; }
      received++;
      if (paused) { held.push(ev); if (held.length > KEEP) held.shift(); } else add(ev);
      showStatus(paused ? 'paused' : 'live');
    });
    source.addEventListener('dropped', (m) => {
      try { dropped += JSON.parse(m.data).dropped || 0; } catch { /* ignore */ }
      showStatus(paused ? 'paused' : 'live');
    });
    source.addEventListener('error', () => {
      status.classList.add('error');
      showStatus(source.readyState === EventSource.CLOSED ? 'disconnected (reload the page to retry)' : 'reconnecting…');
    });
    return {stop() { source.close(); }};
  },
};
