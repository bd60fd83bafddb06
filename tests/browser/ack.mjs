// A paging group acknowledged from the alerts page with a comment (the test then checks through
// the API and the SMTP server that escalation stopped); screenshots of the acked group and of
// the on-call page with the page and its time to ack.
import {check, logger, open, run} from './lib.mjs';

run('ack', async () => {
  const ui = await open();
  const {page} = ui;
  await ui.go('#/alerts');
  await page.locator('.empty').waitFor();
  await page.fill('#your-name', 'Dana Browser');
  // Other alerts around it, for the screenshot: a firing one and a threshold rule's.
  logger('nginx', 'upstream timed out (110: Connection timed out) while reading response header', 'daemon.err');
  for (let i = 0; i < 5; i++) logger('sshd', `Failed password for root from 203.0.113.9 port ${40000 + i} ssh2`, 'auth.warning');
  logger('postgres', 'FATAL: db1 refuses connections: too many clients already');
  const group = page.locator('section.group', {hasText: 'db-down'});
  await group.waitFor({timeout: 15000});
  for (let attempt = 0; ; attempt++) {
    // The ack answers 404 until the group has paged someone (at once here; allow a moment).
    await group.locator('button.ack-button').click();
    await page.fill('.ack-form input[name=comment]', 'restarting db1, pool exhausted');
    await page.click('.ack-form button[type=submit]');
    const outcome = await Promise.race([
      group.locator('.ack-info').waitFor({timeout: 8000}).then(() => 'acked'),
      page.locator('.ack-form .error', {hasText: 'Nothing to acknowledge'}).waitFor({timeout: 8000}).then(() => 'early'),
    ]);
    if (outcome === 'acked') break;
    check(attempt < 8, 'the ack kept answering "nothing to acknowledge"');
    await page.click('.ack-form button:has-text("Cancel")');
    await page.waitForTimeout(1000);
  }
  const info = await group.locator('.ack-info').innerText();
  check(info.includes('Dana Browser') && info.includes('restarting db1'), `ack shown as: ${info}`);
  await page.locator('section.group', {hasText: 'ssh-bruteforce'}).waitFor({timeout: 12000});
  await page.locator('section.group', {hasText: 'nginx-upstream-timeout'}).waitFor({timeout: 12000});
  await ui.shot('alerts-acked');

  await ui.go('#/rules');
  await page.locator('table.rules tr[data-rule="ssh-bruteforce"]').waitFor();
  await ui.shot('rules-busy');

  await ui.go('#/oncall');
  await page.locator('table.pages tr', {hasText: 'Dana Browser'}).first().waitFor({timeout: 12000});
  await ui.shot('oncall');
  await ui.finish();
});
