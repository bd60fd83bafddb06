// The on-call page names who is on call now for a fixed schedule (EXPECT_ONCALL: "schedule=user").
import {check, open, run} from './lib.mjs';

run('oncall', async () => {
  const ui = await open();
  const {page} = ui;
  await ui.go('#/oncall');
  for (const pair of (process.env.EXPECT_ONCALL || '').split(',').filter(Boolean)) {
    const [schedule, user] = pair.split('=');
    const row = page.locator(`table.oncall-now tr[data-schedule="${schedule}"]`);
    await row.waitFor();
    const who = (await row.locator('td.person').innerText()).trim();
    check(who === user, `schedule ${schedule}: the page names ${who}, expected ${user}`);
    console.log(`on call for ${schedule}: ${who}`);
  }
  await ui.shot('oncall-now');
  await ui.finish();
});
