// On call: who is on call now and next for each schedule, the rota of the coming two weeks, and
// the recent pages with who acknowledged them and how fast.
import {get} from './api.js';
import {PALETTE, clear, fmtDuration, fmtTime, h, link, parseTime, s, timeEl} from './dom.js';

const DAYS = 14;

// One row per schedule, one column per day; a block per shift, coloured by person.
function rota(schedules, now) {
  const start = new Date(now); start.setHours(0, 0, 0, 0);
  const end = new Date(start.getTime() + DAYS * 864e5);
  const labelW = 150; const dayW = 64; const rowH = 30; const top = 34;
  const width = labelW + DAYS * dayW; const height = top + schedules.length * rowH + 6;
  const people = [...new Set(schedules.flatMap((sc) => (sc.shifts || []).map((x) => x.user)).filter(Boolean))].sort();
  const colourOf = (user) => PALETTE[people.indexOf(user) % PALETTE.length];
  const x = (t) => labelW + ((t - start) / (end - start)) * DAYS * dayW;
  const svg = s('svg', {class: 'rota', viewBox: `0 0 ${width} ${height}`, width, height, role: 'img',
    'aria-label': `Rota for the next ${DAYS} days`});
  for (let d = 0; d < DAYS; d++) {
    const day = new Date(start.getTime() + d * 864e5);
    const weekend = day.getDay() === 0 || day.getDay() === 6;
    svg.append(s('rect', {x: labelW + d * dayW, y: top - 4, width: dayW, height: height - top + 4,
      class: weekend ? 'day weekend' : 'day'}));
    svg.append(s('text', {x: labelW + d * dayW + dayW / 2, y: 13, 'text-anchor': 'middle', class: 'axis'},
      day.toLocaleDateString(undefined, {weekday: 'short'})));
    svg.append(s('text', {x: labelW + d * dayW + dayW / 2, y: 27, 'text-anchor': 'middle', class: 'axis'},
      day.toLocaleDateString(undefined, {day: 'numeric', month: 'short'})));
  }
  schedules.forEach((sc, i) => {
    const y = top + i * rowH;
    svg.append(s('text', {x: 6, y: y + rowH / 2 + 4, class: 'name'}, sc.name));
    for (const sh of sc.shifts || []) {
      const a = Math.max(parseTime(sh.start), start); const b = Math.min(parseTime(sh.end), end);
      if (!(b > a)) continue;
      const x0 = x(a); const w = Math.max(1, x(b) - x0);
      const g = s('g', {class: sh.user ? 'shift' : 'shift nobody'},
        s('title', null, `${sh.user || 'nobody'}: ${fmtTime(sh.start)} → ${fmtTime(sh.end)}`),
        s('rect', {x: x0 + 0.5, y: y + 2, width: Math.max(0.5, w - 1), height: rowH - 6, rx: 3,
          fill: sh.user ? colourOf(sh.user) : 'none'}));
      if (w > 8 * (sh.user || 'nobody').length * 0.8) {
        g.append(s('text', {x: x0 + 4, y: y + rowH / 2 + 3, class: 'who'}, sh.user || 'nobody'));
      }
      svg.append(g);
    }
  });
  const nx = x(now);
  svg.append(s('line', {x1: nx, x2: nx, y1: top - 6, y2: height, class: 'now'}, s('title', null, 'now')));
  return h('div', {class: 'rota-box'}, svg);
}

export default {
  title: 'On call',
  mount(view) {
    const nowBox = h('div');
    const rotaBox = h('div');
    const pagesBox = h('div');
    view.append(h('h1', null, 'On call now'), nowBox,
      h('h2', null, `Rota, the next ${DAYS} days`), rotaBox,
      h('h2', null, 'Recent pages (24 h)'), pagesBox);

    return {
      async refresh() {
        const [now, sched, pages] = await Promise.all([
          get('/api/v1/oncall/now'),
          get(`/api/v1/oncall/schedule?days=${DAYS}`).catch((e) => { if (e.status === 404) return null; throw e; }),
          get('/api/v1/oncall/pages'),
        ]);
        const t = new Date();
        const schedules = sched ? sched.schedules : [];
        // Who comes next: whom each schedule names at the moment its current shift ends.
        const ends = [...new Set(now.map((n) => n.until).filter(Boolean))];
        const later = new Map(await Promise.all(ends.map(async (u) => [u, await get(`/api/v1/oncall/now?at=${encodeURIComponent(u)}`)])));
        const nextOf = (n) => {
          const at = n.until ? (later.get(n.until) || []).find((x) => x.schedule === n.schedule) : null;
          return at ? {user: at.user, from: n.until} : null;
        };

        clear(nowBox);
        if (!now.length) {
          nowBox.append(h('p', {class: 'empty'}, 'No schedules are configured (oncall.schedules).'));
        } else {
          nowBox.append(h('table', {class: 'table oncall-now'},
            h('thead', null, h('tr', null, ['Schedule', 'On call now', 'Until', 'Next', 'From'].map((x) => h('th', null, x)))),
            h('tbody', null, now.map((n) => {
              const nx = nextOf(n);
              return h('tr', {dataset: {schedule: n.schedule}},
                h('td', null, n.schedule),
                h('td', {class: 'person'}, n.user ? h('strong', null, n.user) : h('span', {class: 'muted'}, 'nobody')),
                h('td', null, n.until ? [fmtTime(n.until), ' (', timeEl(n.until), ')'] : '—'),
                h('td', {class: 'next'}, nx && nx.user ? nx.user : h('span', {class: 'muted'}, nx ? 'nobody' : '—')),
                h('td', null, nx ? fmtTime(nx.from) : '—'));
            }))));
        }

        clear(rotaBox);
        if (!sched) rotaBox.append(h('p', {class: 'muted'}, 'This tocsin does not serve the rota (GET /api/v1/oncall/schedule).'));
        else if (!schedules.length) rotaBox.append(h('p', {class: 'empty'}, 'No schedules.'));
        else rotaBox.append(rota(schedules, t));

        clear(pagesBox);
        if (!pages.length) { pagesBox.append(h('p', {class: 'empty'}, 'Nobody was paged in the last 24 hours.')); return; }
        pages.sort((a, b) => String(b.at).localeCompare(String(a.at)));
        pagesBox.append(h('table', {class: 'table pages'},
          h('thead', null, h('tr', null, ['Paged', 'Who', 'Via', 'Group', 'Policy · step', 'State', 'Acknowledged by', 'Time to ack', 'Comment'].map((x) => h('th', null, x)))),
          h('tbody', null, pages.map((p) => {
            const at = parseTime(p.at); const acked = parseTime(p.acked_at);
            return h('tr', {class: `st-${p.state}`},
              h('td', null, fmtTime(at)),
              h('td', null, h('strong', null, p.user)),
              h('td', null, p.receiver),
              h('td', {class: 'group-key'}, h('a', {href: link('alerts'), title: p.group_key}, p.group_key)),
              h('td', null, `${p.policy} · ${p.step}`),
              h('td', null, h('span', {class: `badge st-${p.state}`}, p.state)),
              h('td', null, p.acked_by || h('span', {class: 'muted'}, '—')),
              h('td', null, acked && at ? fmtDuration(acked - at) : '—'),
              h('td', {class: 'comment'}, p.comment || ''));
          }))));
      },
    };
  },
};
