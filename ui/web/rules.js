// Rules: every rule with its kind, hits, a sparkline of matches per minute over the last hour,
// and the alert groups it has firing now.
import {alertGroups, get} from './api.js';
import {clear, h, labelsToMatchers, link, s} from './dom.js';

// One bar a minute, oldest on the left; a baseline shows the quiet minutes.
function sparkline(values) {
  const w = 180; const hgt = 28; const n = values.length || 1; const bw = w / n;
  const max = Math.max(1, ...values);
  const total = values.reduce((a, b) => a + b, 0);
  const svg = s('svg', {class: 'spark', viewBox: `0 0 ${w} ${hgt}`, width: w, height: hgt, role: 'img',
    'aria-label': `${total} matches in the last hour, at most ${max} a minute`},
  s('title', null, `${total} matches in the last hour; at most ${max} in a minute`),
  s('line', {x1: 0, x2: w, y1: hgt - 0.5, y2: hgt - 0.5, class: 'base'}));
  values.forEach((v, i) => {
    if (!v) return;
    const bh = Math.max(2, (v / max) * (hgt - 2));
    svg.append(s('rect', {x: (i * bw + 0.3).toFixed(1), y: (hgt - bh).toFixed(1), width: Math.max(1, bw - 0.6).toFixed(1), height: bh.toFixed(1), class: 'bar'}));
  });
  return svg;
}

export default {
  title: 'Rules',
  mount(view, params) {
    const focus = params.get('rule');  // from an alert's "Rule" link: that rule stands out
    const box = h('div');
    view.append(h('h1', null, 'Rules'), h('p', {class: 'muted'}, 'Hits count every line a rule matched since tocsin started; the sparkline shows matches per minute over the last hour.'), box);
    return {
      async refresh() {
        const [rules, groups] = await Promise.all([get('/api/v1/rules').catch((e) => {
          if (e.status === 404) return null; throw e;
        }), alertGroups('')]);
        clear(box);
        if (!rules) { box.append(h('p', {class: 'muted'}, 'This tocsin does not serve its rules (GET /api/v1/rules).')); return; }
        const live = new Map();
        for (const g of groups) {
          for (const a of g.alerts) {
            const name = a.labels.alertname;
            if (!live.has(name)) live.set(name, new Map());
            live.get(name).set(JSON.stringify(g.labels), g);
          }
        }
        if (!rules.rules.length) { box.append(h('p', {class: 'empty'}, 'No rules are loaded.')); return; }
        box.append(h('table', {class: 'table rules'},
          h('thead', null, h('tr', null, ['Rule', 'Kind', 'Hits', 'Last hour', 'Live groups', ''].map((x) => h('th', null, x)))),
          h('tbody', null, rules.rules.map((r) => {
            const gs = [...(live.get(r.name) || new Map()).values()];
            return h('tr', {dataset: {rule: r.name}, class: r.name === focus ? 'focus' : null},
              h('td', null, h('strong', null, r.name)),
              h('td', null, h('span', {class: `badge kind-${r.kind}`}, r.kind)),
              h('td', {class: 'num'}, r.hits ?? r.matches ?? 0),
              h('td', null, sparkline(r.per_minute || [])),
              h('td', null, gs.length ? gs.map((g) => h('a', {class: 'chip', href: link('alerts', {filter: labelsToMatchers(g.labels)})},
                `${Object.entries(g.labels).map(([k, v]) => `${k}=${v}`).join(' ') || r.name} (${g.alerts.length})`))
                : h('span', {class: 'muted'}, 'none firing'),
              typeof r.groups === 'number' && r.groups ? h('div', {class: 'muted small', title: 'Label sets (hosts, users …) this rule keeps counting for'},
                `${r.groups} tracked`) : null),
              h('td', null, r.search ? h('a', {class: 'button', href: link('search', {filter: r.search, since: '1h'})}, 'Matching lines') : null));
          }))));
      },
    };
  },
};
