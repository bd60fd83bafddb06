// The on-call page names who is on call now and next for fixed schedules
// (EXPECT_ONCALL: "schedule=now>next,...").
import {check, open, run} from './lib.mjs';

run('oncall', async () => {
  const ui = await open();
  const {page} = ui;
  await ui.go('#/oncall');
  for (const pair of (process.env.EXPECT_ONCALL || '').split(',').filter(Boolean)) {
    const [schedule, people] = pair.split('=');
    const [user, next] = people.split('>');
    const row = page.locator(`table.oncall-now tr[data-schedule="${schedule}"]`);
    await row.waitFor();
    const who = (await row.locator('td.person').innerText()).trim();
    check(who === user, `schedule ${schedule}: the page names ${who}, expected ${user}`);
    const then = (await row.locator('td.next').innerText()).trim();
    check(then === next, `schedule ${schedule}: the page names ${then} next, expected ${next}`);
    console.log(`on call for ${schedule}: ${who}, then ${then}`);
  }
  await ui.shot('oncall-now');
  await ui.finish();
});
