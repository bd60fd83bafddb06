// Search over the archive: a filter and a time range, a histogram of matches over time (click a
// bar to zoom into it), and the matching lines, newest first.
import {get, qs} from './api.js';
import {fmtTime, h, link, parseWhen, s} from './dom.js';
import {eventHead, eventRow} from './events.js';

const BUCKETS = 60;

function histogram(hist, onPick) {
  const counts = hist.counts || [];
  const w = 1300; const hgt = 150; const left = 44; const bottom = 22;
  const n = Math.max(1, counts.length); const max = Math.max(1, ...counts);
  const bw = (w - left) / n;
  const start = new Date(hist.start).getTime(); const step = hist.step_seconds * 1000;
  const svg = s('svg', {class: 'histogram', viewBox: `0 0 ${w} ${hgt}`, role: 'img',
    'aria-label': 'Matches over time; click a bar to zoom into it'});
  svg.append(s('text', {x: left - 4, y: 10, 'text-anchor': 'end', class: 'axis'}, String(max)),
    s('text', {x: left - 4, y: hgt - bottom, 'text-anchor': 'end', class: 'axis'}, '0'),
    s('line', {x1: left, x2: w, y1: hgt - bottom, y2: hgt - bottom, class: 'base'}));
  counts.forEach((c, i) => {
    const bh = (c / max) * (hgt - bottom - 6);
    const from = new Date(start + i * step); const to = new Date(start + (i + 1) * step);
    const g = s('g', {class: 'bar', onclick: () => onPick(from, to)},
      s('title', null, `${c} line${c === 1 ? '' : 's'}, ${fmtTime(from)} → ${fmtTime(to)}`),
      s('rect', {x: left + i * bw, y: 0, width: bw, height: hgt - bottom, class: 'hit'}),
      s('rect', {x: left + i * bw + 0.5, y: hgt - bottom - bh, width: Math.max(0.5, bw - 1), height: bh, class: 'fill'}));
    svg.append(g);
  });
  for (const i of [0, Math.floor(n / 2), n]) {
    svg.append(s('text', {x: Math.min(w - 2, left + i * bw), y: hgt - 5, class: 'axis',
      'text-anchor': i === 0 ? 'start' : i === n ? 'end' : 'middle'}, fmtTime(new Date(start + i * step))));
  }
  return svg;
}

export default {
  title: 'Search',
  mount(view, params, ctx) {
    const filter = params.get('filter') || '';
    const since = params.get('since') || '1h';
    const until = params.get('until') || '';
    const f = h('input', {type: 'search', name: 'filter', value: filter, size: 50, spellcheck: 'false',
      placeholder: 'host="web1" app="nginx" timeout', 'aria-label': 'Filter'});
    // An absolute time shows as local "YYYY-MM-DD HH:MM:SS"; "1h" stays as typed.
    const shown = (t) => (t && /^\d{4}-/.test(t) && parseWhen(t) ? fmtTime(parseWhen(t)) : t);
    const a = h('input', {name: 'since', value: shown(since), size: 22, placeholder: '1h, 2d or 2026-01-02 10:00', 'aria-label': 'Since'});
    const b = h('input', {name: 'until', value: shown(until), size: 22, placeholder: 'now', 'aria-label': 'Until'});
    const result = h('div', {class: 'search-result'}, h('p', {class: 'muted'}, 'Searching…'));
    const go = (p) => { location.hash = link('search', p); };
    view.append(h('form', {class: 'toolbar filter search-form', onsubmit: (e) => {
      e.preventDefault(); go({filter: f.value.trim(), since: a.value.trim(), until: b.value.trim()});
    }}, h('label', null, 'Filter ', f), h('label', null, 'From ', a), h('label', null, 'to ', b),
    h('button', {type: 'submit', class: 'primary'}, 'Search')),
    h('p', {class: 'muted hint'}, 'Terms: field OP "value" (OP: = != =~ !~) or bare words the message contains. Times: "1h" (ago), "2026-01-02 10:00" (local) or RFC 3339.'),
    result);

    const now = new Date();
    const from = parseWhen(since, now); const to = until ? parseWhen(until, now) : now;
    (async () => {
      if (!from || !to) { result.replaceChildren(h('p', {class: 'error'}, 'Times: "1h", "2d", "2026-01-02 10:00" or RFC 3339.')); return; }
      try {
        const r = await get(`/api/v1/search${qs({filter, since: from.toISOString(), until: to.toISOString(), limit: 500, buckets: BUCKETS})}`);
        const lines = r.lines || [];
        const total = (r.histogram && r.histogram.counts || []).reduce((x, y) => x + y, 0);
        result.replaceChildren(
          h('p', {class: 'stats'}, `${total} matching line${total === 1 ? '' : 's'} from ${fmtTime(from)} to ${fmtTime(to)}`,
            h('span', {class: 'muted'}, ` · ${r.files_scanned ?? 0} files, ${Math.round((r.bytes_scanned ?? 0) / 1024)} KiB scanned`),
            r.truncated ? h('span', {class: 'warn'}, ` · showing the newest ${lines.length}`) : null),
          r.histogram ? histogram(r.histogram, (x, y) => go({filter, since: x.toISOString(), until: y.toISOString()})) : null,
          lines.length ? h('table', {class: 'table events'}, eventHead(), h('tbody', null, lines.map(eventRow)))
            : h('p', {class: 'empty'}, 'No line matches.'));
      } catch (e) {
        result.replaceChildren(h('p', {class: 'error'}, e.status === 404 ? 'This tocsin does not serve search (GET /api/v1/search).' : e.message));
        ctx.showError(null);
      }
    })();
    return {};
  },
};
