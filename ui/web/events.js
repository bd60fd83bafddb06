// An archived or live event (Event JSON) as a table row.
import {fmtTime, h, parseTime} from './dom.js';

export function eventHead() {
  return h('thead', null, h('tr', null, ['Time', 'Host', 'App', 'Severity', 'Message'].map((x) => h('th', null, x))));
}

export function eventRow(e) {
  const t = parseTime(e.timestamp) || parseTime(e.received_at);
  const sev = String(e.severity ?? '');
  return h('tr', {class: `event sev-${sev.replace(/[^a-z0-9]/gi, '')}`},
    h('td', {class: 'time', title: e.received_at ? `received ${fmtTime(e.received_at)}` : null}, fmtTime(t)),
    h('td', null, e.host ?? ''),
    h('td', null, e.app ?? ''),
    h('td', null, sev),
    h('td', {class: 'message'}, e.message ?? ''));
}
