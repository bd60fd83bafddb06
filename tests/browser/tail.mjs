// The live tail, filtered to app="nginx", shows a line sent with `logger` after the page opened,
// and not a line of another app.
import {Skip, check, logger, open, run, status} from './lib.mjs';

run('tail', async () => {
  if (await status('/api/v1/tail?filter=app%3D%22nope%22') === 404) throw new Skip('the server has no /api/v1/tail yet');
  const ui = await open();
  const {page} = ui;
  await ui.go('#/tail?filter=app%3D%22nginx%22');
  await page.locator('.tail-status', {hasText: 'live'}).waitFor({timeout: 10000});
  logger('cron', 'pam_unix(cron:session): session opened for user root', 'cron.info');
  logger('nginx', '10.0.4.17 "GET /checkout HTTP/1.1" 502 upstream timed out', 'daemon.warning');
  logger('nginx', '10.0.4.22 "POST /api/cart HTTP/1.1" 200', 'daemon.info');
  await page.locator('table.events tr', {hasText: 'GET /checkout'}).waitFor({timeout: 10000});
  await page.locator('table.events tr', {hasText: 'POST /api/cart'}).waitFor({timeout: 10000});
  const text = await page.locator('table.events').innerText();
  check(!text.includes('pam_unix'), 'the tail shows a line its filter excludes');
  await ui.shot('tail');
  await ui.finish();
});
