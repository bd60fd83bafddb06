// Alert groups as the route tree groups them: firing, silenced, inhibited and acknowledged,
// filtered by a matcher; acknowledge a group, silence an alert, open the lines that fired it.
import {alertGroups, post} from './api.js';
import {clear, fmtTime, h, labelChips, labelsToMatchers, link, parseTime, timeEl,
  yourName} from './dom.js';

const STATES = [
  ['firing', 'Firing'], ['silenced', 'Silenced'], ['inhibited', 'Inhibited'], ['acked', 'Acknowledged'],
];
const SHOWN_PER_GROUP = 25;

function alertState(a, group) {
  const st = a.status || {};
  if ((st.silencedBy || []).length) return 'silenced';
  if ((st.inhibitedBy || []).length) return 'inhibited';
  if (group.ack) return 'acked';
  return 'firing';
}

// The time intervals that mute a group's route now (every alert of the group carries them).
function mutedBy(group) {
  return ((group.alerts[0] || {}).status || {}).mutedBy || [];
}

// The filter text that finds an alert's archived lines: the server's, else its host and app.
function searchOf(a) {
  if (a.search) return a.search;
  const terms = [];
  for (const k of ['host', 'app']) if (a.labels[k]) terms.push(`${k}="${a.labels[k]}"`);
  return terms.join(' ');
}

function searchLink(a) {
  const start = parseTime(a.startsAt);
  const since = start ? new Date(start.getTime() - 15 * 60e3).toISOString() : '1h';
  return link('search', {filter: searchOf(a), since});
}

// An alert's generatorURL: a tocsin rule opens the rules page; a web address opens in a new tab;
// anything else (javascript:, data: ...) is not a link.
function sourceLink(url) {
  const rule = /^tocsin:\/\/[^/]*\/rules\/(.+)$/.exec(url || '');
  if (rule) return h('a', {class: 'button link', href: link('rules', {rule: decodeURIComponent(rule[1])})}, 'Rule');
  if (/^https?:\/\//i.test(url || '')) {
    return h('a', {class: 'button link', href: url, rel: 'noreferrer noopener', target: '_blank'}, 'Source');
  }
  return null;
}

export default {
  title: 'Alerts',
  mount(view, params, ctx) {
    const filter = params.get('filter') || '';
    const hidden = new Set((params.get('hide') || '').split(',').filter(Boolean));
    const expanded = new Set();
    const ackDrafts = new Map();  // groupKey → comment being typed; survives refreshes
    let groups = [];

    const input = h('input', {type: 'search', name: 'filter', value: filter, size: 40,
      placeholder: 'severity="critical", host=~"web.*"', 'aria-label': 'Matcher',
      spellcheck: 'false', autocomplete: 'off'});
    const toggles = h('span', {class: 'toggles'});
    const summary = h('span', {class: 'summary muted'});
    const list = h('div', {class: 'groups', 'aria-live': 'polite'});
    const go = (hide) => {
      location.hash = link('alerts', {filter: input.value.trim(), hide: [...hide].join(',')});
    };
    view.append(
      h('div', {class: 'toolbar'},
        h('form', {class: 'filter', onsubmit: (e) => { e.preventDefault(); go(hidden); }},
          h('label', null, 'Filter ', input), h('button', {type: 'submit'}, 'Apply'),
          filter ? h('a', {href: link('alerts'), class: 'button link'}, 'Clear') : null),
        toggles, summary),
      list);

    function renderToggles(counts) {
      clear(toggles);
      for (const [key, label] of STATES) {
        toggles.append(h('label', {class: `toggle st-${key}`},
          h('input', {type: 'checkbox', checked: !hidden.has(key), onchange: (e) => {
            if (e.target.checked) hidden.delete(key); else hidden.add(key);
            go(hidden);
          }}), ` ${label} `, h('span', {class: 'count'}, counts[key] || 0)));
      }
    }

    function ackForm(g) {
      const comment = h('input', {name: 'comment', size: 40, placeholder: 'What are you doing about it?',
        value: ackDrafts.get(g.groupKey) || '', oninput: (e) => ackDrafts.set(g.groupKey, e.target.value)});
      const msg = h('span', {class: 'error'});
      return h('form', {class: 'ack-form', onsubmit: async (e) => {
        e.preventDefault();
        const by = yourName();
        if (!by) {
          msg.textContent = 'Fill in "Your name" at the top first.';
          document.getElementById('your-name').focus();
          return;
        }
        try {
          await post('/api/v1/oncall/ack', {group_key: g.groupKey, by, comment: comment.value});
          ackDrafts.delete(g.groupKey);
          ctx.refreshNow();
        } catch (err) {
          msg.textContent = err.status === 404
            ? 'Nothing to acknowledge: this group has not paged anyone.' : err.message;
        }
      }}, h('label', null, 'Comment ', comment), h('button', {type: 'submit', class: 'primary'}, 'Acknowledge'),
      h('button', {type: 'button', onclick: () => { ackDrafts.delete(g.groupKey); render(); }}, 'Cancel'), msg);
    }

    function renderAlert(a, g) {
      const state = alertState(a, g);
      const ann = a.annotations || {};
      const rest = Object.keys(ann).filter((k) => k !== 'summary' && k !== 'description').sort();
      const started = parseTime(a.startsAt);
      return h('li', {class: `alert st-${state}`, dataset: {fingerprint: a.fingerprint || ''}},
        h('div', {class: 'alert-head'},
          h('span', {class: `badge st-${state}`}, state),
          labelChips(a.labels, new Set(Object.keys(g.labels || {})))),
        ann.summary ? h('div', {class: 'summary-text'}, ann.summary) : null,
        ann.description ? h('div', {class: 'description'}, ann.description) : null,
        rest.length ? h('dl', {class: 'annotations'}, rest.map((k) => [h('dt', null, k), h('dd', null, ann[k])])) : null,
        h('div', {class: 'alert-meta'},
          h('span', null, 'Started ', timeEl(started), started ? ` (${fmtTime(started)})` : ''),
          a.fired !== undefined ? h('span', {title: 'How many times tocsin received this alert'}, `Fired ${a.fired}×`) : null,
          state === 'silenced' ? h('a', {href: link('silences', {id: a.status.silencedBy[0]})}, 'Silenced by ', h('code', null, a.status.silencedBy[0].slice(0, 8))) : null,
          h('span', {class: 'actions'},
            h('a', {class: 'button', href: link('silences', {new: labelsToMatchers(a.labels)})}, 'Silence…'),
            h('a', {class: 'button', href: searchLink(a), title: 'The archived lines that fired this alert'}, 'Log lines'),
            sourceLink(a.generatorURL))));
    }

    function renderGroup(g) {
      const shown = g.alerts.filter((a) => !hidden.has(alertState(a, g)));
      if (!shown.length) return null;
      const key = g.groupKey || JSON.stringify(g.labels);
      const states = new Set(g.alerts.map((a) => alertState(a, g)));
      const esc = g.escalation;
      const all = expanded.has(key) || shown.length <= SHOWN_PER_GROUP + 5;
      return h('section', {class: 'group', dataset: {groupKey: g.groupKey || ''}},
        h('header', {class: 'group-head'},
          h('div', {class: 'group-labels'},
            Object.keys(g.labels || {}).length ? labelChips(g.labels) : h('span', {class: 'muted'}, '(all alerts of the route)')),
          h('div', {class: 'group-info'},
            h('span', {class: 'muted'}, `${g.alerts.length} alert${g.alerts.length === 1 ? '' : 's'} → `,
              h('strong', null, (g.receiver || {}).name || '?')),
            [...states].map((st) => h('span', {class: `badge st-${st}`}, st)),
            mutedBy(g).length ? h('span', {class: 'badge st-muted', title: 'A time interval of its route holds: nothing is sent now'},
              `muted by ${mutedBy(g).join(', ')}`) : null,
            esc ? h('span', {class: g.ack ? 'escalation done' : 'escalation', title: `Escalation policy ${esc.policy}, step ${esc.step}`},
              g.ack ? 'Paged ' : 'Paging ', (esc.paged || []).join(', ') || 'nobody', ` (${esc.policy}, step ${esc.step})`) : null,
            g.ack ? h('span', {class: 'ack-info'}, '✔ Acknowledged by ', h('strong', null, g.ack.by), ' ',
              timeEl(g.ack.at), g.ack.comment ? [': “', g.ack.comment, '”'] : '') : null,
            // Only a group that pages someone has something to acknowledge.
            !g.ack && esc && g.groupKey && !ackDrafts.has(g.groupKey)
              ? h('button', {type: 'button', class: 'ack-button', onclick: () => { ackDrafts.set(g.groupKey, ''); render(); }}, 'Acknowledge…') : null)),
        g.groupKey && ackDrafts.has(g.groupKey) && !g.ack ? ackForm(g) : null,
        h('ul', {class: 'alerts'}, (all ? shown : shown.slice(0, SHOWN_PER_GROUP)).map((a) => renderAlert(a, g))),
        all ? null : h('button', {type: 'button', class: 'link', onclick: () => { expanded.add(key); render(); }},
          `Show all ${shown.length} alerts`));
    }

    function render() {
      // Someone typing in this list keeps what they type: the next refresh redraws.
      if (list.contains(document.activeElement) && document.activeElement.tagName === 'INPUT') return;
      const counts = {};
      let total = 0;
      for (const g of groups) for (const a of g.alerts) { counts[alertState(a, g)] = (counts[alertState(a, g)] || 0) + 1; total++; }
      renderToggles(counts);
      summary.textContent = `${total} alert${total === 1 ? '' : 's'} in ${groups.length} group${groups.length === 1 ? '' : 's'}`;
      const frag = document.createDocumentFragment();
      for (const g of groups) { const el = renderGroup(g); if (el) frag.append(el); }
      clear(list);
      if (!frag.childNodes.length) {
        list.append(h('p', {class: 'empty'}, total ? 'No alert in the states shown.'
          : filter ? 'No alert matches this filter.' : 'Nothing is firing. All quiet.'));
      } else {
        list.append(frag);
      }
    }

    return {
      async refresh() {
        const started = performance.now();
        groups = await alertGroups(filter);
        // Firing groups first, then by their labels.
        groups.sort((a, b) => Number(Boolean(a.ack)) - Number(Boolean(b.ack)) ||
          JSON.stringify(a.labels).localeCompare(JSON.stringify(b.labels)));
        render();
        view.dataset.renderMs = String(Math.round(performance.now() - started));
      },
    };
  },
};

