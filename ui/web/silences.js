// Silences: the list (active, pending, expired), a form to create one (pre-filled from an
// alert's labels), a new end for an active one, and expire.
import {del, get, post} from './api.js';
import {clear, fmtDuration, fmtTime, h, link, matcherText, parseDuration, parseMatchers, parseTime,
  timeEl, yourName} from './dom.js';

const ORDER = {active: 0, pending: 1, expired: 2};

export default {
  title: 'Silences',
  mount(view, params, ctx) {
    const prefill = params.get('new');
    const only = params.get('id');
    const list = h('div', {class: 'silences'});
    const formBox = h('div');
    let silences = [];
    const editing = new Set();

    view.append(h('div', {class: 'toolbar'},
      h('h1', null, 'Silences'),
      h('button', {type: 'button', class: 'primary', onclick: () => showForm('')}, 'New silence'),
      only ? h('a', {class: 'button link', href: link('silences')}, 'Show all silences') : null),
    formBox, list);

    function showForm(matchers) {
      clear(formBox);
      const m = h('input', {name: 'matchers', size: 60, value: matchers, required: true, spellcheck: 'false',
        placeholder: 'alertname="DiskFull", host="web1"'});
      const dur = h('input', {name: 'duration', size: 8, value: '2h', required: true});
      const by = h('input', {name: 'createdBy', size: 16, value: yourName(), required: true});
      const comment = h('input', {name: 'comment', size: 50, required: true, placeholder: 'Why? (a ticket, a maintenance…)'});
      const msg = h('p', {class: 'error'});
      const preview = h('p', {class: 'muted preview'});
      let pending = 0;
      const check = () => {
        try {
          const ms = parseMatchers(m.value);
          const what = ms.map(matcherText);
          preview.textContent = ms.length ? `Mutes alerts where ${what.join(' and ')}` : '';
          msg.textContent = '';
          // How many alerts that is right now (after a pause in typing).
          clearTimeout(pending);
          if (ms.length) {
            pending = setTimeout(async () => {
              try {
                const now = await get(`/api/v2/alerts?filter=${encodeURIComponent(`{${what.join(', ')}}`)}`);
                preview.textContent = `Mutes alerts where ${what.join(' and ')}: ${now.length} firing now.`;
              } catch { /* the text alone will do */ }
            }, 300);
          }
        } catch (e) { msg.textContent = e.message; }
      };
      m.addEventListener('input', check);
      formBox.append(h('form', {class: 'card silence-form', onsubmit: async (e) => {
        e.preventDefault();
        let ms;
        try { ms = parseMatchers(m.value); } catch (err) { msg.textContent = err.message; return; }
        const d = parseDuration(dur.value);
        if (!ms.length) { msg.textContent = 'A silence needs at least one matcher.'; return; }
        if (!d) { msg.textContent = 'Duration: e.g. 30m, 2h, 1d.'; return; }
        const now = new Date();
        try {
          const res = await post('/api/v2/silences', {matchers: ms, startsAt: now.toISOString(),
            endsAt: new Date(now.getTime() + d).toISOString(), createdBy: by.value.trim(), comment: comment.value});
          if (!yourName()) { localStorage.setItem('tocsin.name', by.value.trim()); document.getElementById('your-name').value = by.value.trim(); }
          clear(formBox);
          location.hash = link('silences', {id: res.silenceID});
        } catch (err) { msg.textContent = err.message; }
      }},
      h('h2', null, 'New silence'),
      h('div', {class: 'fields'},
        h('label', null, 'Matchers ', m),
        h('label', null, 'Duration ', dur),
        h('label', null, 'Created by ', by),
        h('label', null, 'Comment ', comment)),
      preview, msg,
      h('div', null, h('button', {type: 'submit', class: 'primary'}, 'Create silence'), ' ',
        h('button', {type: 'button', onclick: () => { clear(formBox); if (prefill !== null) location.hash = link('silences'); }}, 'Cancel'))));
      check();
      (matchers ? comment : m).focus();
    }

    function editForm(s) {
      const dur = h('input', {name: 'duration', size: 8, value: '1h'});
      const msg = h('span', {class: 'error'});
      return h('form', {class: 'edit-form', onsubmit: async (e) => {
        e.preventDefault();
        const d = parseDuration(dur.value);
        if (!d) { msg.textContent = 'e.g. 30m, 2h, 1d'; return; }
        try {
          await post('/api/v2/silences', {id: s.id, matchers: s.matchers, startsAt: s.startsAt,
            endsAt: new Date(Date.now() + d).toISOString(), createdBy: s.createdBy, comment: s.comment});
          editing.delete(s.id);
          ctx.refreshNow();
        } catch (err) { msg.textContent = err.message; }
      }}, h('label', null, 'Ends in ', dur, ' from now '), h('button', {type: 'submit', class: 'primary'}, 'Save'),
      h('button', {type: 'button', onclick: () => { editing.delete(s.id); render(); }}, 'Cancel'), msg);
    }

    function row(s) {
      const state = (s.status || {}).state || 'active';
      const ends = parseTime(s.endsAt);
      return h('tr', {class: `st-${state}`, dataset: {id: s.id}},
        h('td', null, h('span', {class: `badge st-${state}`}, state)),
        h('td', {class: 'matchers'}, s.matchers.map((m) => h('code', {class: 'chip'}, matcherText(m)))),
        h('td', null, timeEl(s.startsAt)),
        h('td', null, state === 'expired' ? timeEl(ends) : [fmtTime(ends), h('br'),
          h('span', {class: 'muted'}, `${fmtDuration(ends - Date.now())} left`)]),
        h('td', null, s.createdBy),
        h('td', {class: 'comment'}, s.comment),
        h('td', {class: 'actions'}, state === 'expired' ? h('a', {class: 'button', href: link('silences',
          {new: s.matchers.map(matcherText).join(', ')})}, 'Recreate…') : [
          editing.has(s.id) ? editForm(s) : h('button', {type: 'button', onclick: () => { editing.add(s.id); render(); }}, 'Change end…'),
          h('button', {type: 'button', class: 'danger', onclick: async () => {
            try { await del(`/api/v2/silence/${encodeURIComponent(s.id)}`); ctx.refreshNow(); } catch (err) { ctx.showError(err); }
          }}, 'Expire')]));
    }

    function render() {
      if (list.contains(document.activeElement) && document.activeElement.tagName === 'INPUT') return;
      clear(list);
      const shown = silences.filter((s) => !only || s.id === only)
        .sort((a, b) => ORDER[a.status.state] - ORDER[b.status.state] || String(b.startsAt).localeCompare(String(a.startsAt)));
      if (!shown.length) { list.append(h('p', {class: 'empty'}, 'No silences.')); return; }
      list.append(h('table', {class: 'table'},
        h('thead', null, h('tr', null, ['State', 'Matchers', 'Started', 'Ends', 'By', 'Comment', ''].map((t) => h('th', null, t)))),
        h('tbody', null, shown.map(row))));
    }

    if (prefill !== null) showForm(prefill);
    return {
      async refresh() {
        silences = await get('/api/v2/silences');
        render();
      },
    };
  },
};
