// The UI's pure helpers (ui/web/dom.js) under node:test: matchers, durations, times.
import assert from 'node:assert/strict';
import {test} from 'node:test';
import {fmtDuration, labelsToMatchers, matcherText, parseDuration, parseMatchers, parseWhen} from '../../ui/web/dom.js';

test('matchers: Alertmanager lists with and without braces, every operator, quotes', () => {
  assert.deepEqual(parseMatchers('{severity="critical", host=~"web.*"}'), [
    {name: 'severity', value: 'critical', isRegex: false, isEqual: true},
    {name: 'host', value: 'web.*', isRegex: true, isEqual: true}]);
  assert.deepEqual(parseMatchers('a!="1",b!~"x|y"').map(matcherText), ['a!="1"', 'b!~"x|y"']);
  assert.deepEqual(parseMatchers('path="C:\\\\dir \\"x\\", y"')[0].value, 'C:\\dir "x", y');
  assert.deepEqual(parseMatchers('job=api'), [{name: 'job', value: 'api', isRegex: false, isEqual: true}]);
  assert.deepEqual(parseMatchers('  '), []);
  assert.throws(() => parseMatchers('9x="1"'), /label name/);
  assert.throws(() => parseMatchers('a>"1"'), /expected =/);
  assert.throws(() => parseMatchers('a="1'), /unterminated/);
});

test('matchers round-trip through text, labels become sorted equality matchers', () => {
  const labels = {z: 'a"b', alertname: 'disk-full', device: '/dev/sdb1'};
  const text = labelsToMatchers(labels);
  assert.equal(text, 'alertname="disk-full", device="/dev/sdb1", z="a\\"b"');
  const back = Object.fromEntries(parseMatchers(text).map((m) => [m.name, m.value]));
  assert.deepEqual(back, labels);
});

test('durations', () => {
  assert.equal(parseDuration('90s'), 90e3);
  assert.equal(parseDuration('1h30m'), 90 * 60e3);
  assert.equal(parseDuration('2d'), 2 * 864e5);
  assert.equal(parseDuration('1h 30m'), 90 * 60e3);
  for (const bad of ['', 'soon', '5', '1x', '0s', '1h and']) assert.equal(parseDuration(bad), null, bad);
  assert.equal(fmtDuration(3723e3), '1h 2m');
  assert.equal(fmtDuration(45e3), '45s');
  assert.equal(fmtDuration(2 * 864e5 + 3600e3), '2d 1h');
  assert.equal(fmtDuration(0), '0s');
});

test('times: relative, RFC 3339, now', () => {
  const now = new Date('2026-12-04T12:00:00Z');
  assert.equal(parseWhen('1h', now).toISOString(), '2026-12-04T11:00:00.000Z');
  assert.equal(parseWhen('-15m', now).toISOString(), '2026-12-04T11:45:00.000Z');
  assert.equal(parseWhen('2026-12-01T10:00:00Z', now).toISOString(), '2026-12-01T10:00:00.000Z');
  assert.equal(parseWhen('now', now), now);
  assert.equal(parseWhen('yesterday-ish', now), null);
  assert.equal(parseWhen('', now), null);
});
