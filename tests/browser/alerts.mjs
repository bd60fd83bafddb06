// An alert sent with `logger` shows on the open alerts page without a reload; "Silence…" on it
// creates a silence from its labels, "Change end…" shortens it to 30 minutes (the test then
// checks both through the API); a matcher filters the page; its "Log lines" link shows
// the archived line that fired it; screenshots of alerts, silences, rules and search.
import {check, logger, open, run} from './lib.mjs';

run('alerts', async () => {
  const ui = await open();
  const {page} = ui;
  await ui.go('#/alerts');
  await page.locator('.empty').waitFor();
  await page.fill('#your-name', 'Dana Browser');
  await page.evaluate(() => { window.tocsinNoReload = true; });

  // Some context for the screenshot, then the alert under test.
  logger('nginx', 'upstream timed out (110: Connection timed out) while reading response header', 'daemon.err');
  logger('postgres', 'could not write block 7741: No space left on /dev/sdb1');
  const alert = page.locator('li.alert', {hasText: '/dev/sdb1'});
  await alert.waitFor({timeout: 15000});
  check(await page.evaluate(() => window.tocsinNoReload === true), 'the page reloaded');
  check((await alert.locator('.badge').innerText()).toLowerCase() === 'firing', 'the alert is not shown as firing');
  await page.locator('li.alert', {hasText: 'upstream timed out'}).waitFor({timeout: 15000});
  await ui.shot('alerts');

  // A matcher narrows the page to the matching groups.
  await page.fill('input[name=filter]', 'alertname="disk-full"');
  await page.click('form.filter button[type=submit]');
  await page.waitForFunction(() => document.querySelectorAll('section.group').length === 1 &&
    document.querySelector('section.group').textContent.includes('disk-full'));
  check(!(await page.locator('#view').innerText()).includes('upstream timed out'), 'the filter did not apply');

  // Silence it from the alert: its labels are pre-filled.
  await alert.locator('a', {hasText: 'Silence'}).click();
  const matchers = page.locator('input[name=matchers]');
  await matchers.waitFor();
  const text = await matchers.inputValue();
  check(text.includes('alertname="disk-full"') && text.includes('device="/dev/sdb1"'), `matchers not pre-filled: ${text}`);
  await page.locator('.preview', {hasText: '1 firing now'}).waitFor();
  await page.fill('input[name=duration]', '4h');
  await page.fill('input[name=comment]', 'sdb1 is replaced tomorrow morning');
  await ui.shot('silence-new');
  await page.click('.silence-form button[type=submit]');
  await page.locator('.silences tr', {hasText: 'sdb1 is replaced tomorrow morning'}).waitFor();
  await ui.go('#/silences');
  const row = page.locator('.silences tr', {hasText: 'sdb1 is replaced tomorrow morning'});
  await row.waitFor();
  // Shorter than planned: it now ends in 30 minutes (the test checks endsAt through the API).
  await row.locator('button', {hasText: 'Change end'}).click();
  await row.locator('input[name=duration]').fill('30m');
  await row.locator('button[type=submit]').click();
  await page.locator('.silences tr', {hasText: '30m left'}).or(page.locator('.silences tr', {hasText: '29m'})).first().waitFor();
  await ui.shot('silences');

  // Back on the alerts page, it shows as silenced (on the next refresh at the latest).
  await ui.go('#/alerts');
  await page.locator('li.alert.st-silenced', {hasText: '/dev/sdb1'}).waitFor({timeout: 12000});
  await ui.shot('alerts-silenced');

  await ui.go('#/rules');
  // The rules page: the rule that fired counts its match and lists its live group.
  const ruleRow = page.locator('table.rules tr[data-rule="disk-full"]');
  await ruleRow.waitFor();
  check(Number(await ruleRow.locator('td.num').innerText()) >= 1, 'disk-full shows no match');
  check((await ruleRow.innerText()).includes('alertname=disk-full (1)'), `disk-full's live group is missing: ${await ruleRow.innerText()}`);
  check(await ruleRow.locator('svg.spark rect.bar').count() >= 1, 'the sparkline shows no match');
  await ui.shot('rules');

  // One click from the alert to the archived line that fired it.
  await ui.go('#/alerts');
  await page.locator('li.alert', {hasText: '/dev/sdb1'}).locator('a', {hasText: 'Log lines'}).click();
  await page.locator('.search-result table.events, .search-result p').first().waitFor();
  await page.waitForFunction(() => !document.querySelector('.search-result').textContent.includes('Searching'));
  const found = await page.locator('.search-result').innerText();
  if (!found.includes('does not serve search')) {
    check(found.includes('No space left on /dev/sdb1'), `the alert's lines are not in the search: ${found.slice(0, 400)}`);
  }
  await ui.shot('search');

  // A hostile line: its text is shown as text, never parsed as markup.
  let dialogs = 0;
  page.on('dialog', (d) => { dialogs++; d.dismiss(); });
  logger('postgres', 'No space left on <img/src=x/onerror=alert(1)><b>bold</b>');
  await ui.go('#/alerts');
  await page.locator('li.alert', {hasText: '<img/src=x/onerror=alert(1)><b>bold</b>'}).waitFor({timeout: 15000});
  check(await page.locator('#view img, #view b').count() === 0, 'a label became markup');
  check(dialogs === 0, 'a label ran script');
  await ui.finish();
});
