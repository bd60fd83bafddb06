// The live tail, filtered to app="nginx", shows lines sent with `logger` after the page opened,
// and not a line of another app; its stream ends when the page changes and when the tab closes
// (the server's tocsin_tail_subscribers gauge).
import {api, check, logger, open, run} from './lib.mjs';

async function subscribers() {
  const m = /^tocsin_tail_subscribers (\d+)/m.exec((await api('/metrics')).text);
  return m ? Number(m[1]) : -1;
}

async function waitSubscribers(n) {
  for (let i = 0; i < 50 && await subscribers() !== n; i++) await new Promise((r) => setTimeout(r, 100));
  check(await subscribers() === n, `tocsin_tail_subscribers is ${await subscribers()}, expected ${n}`);
}

run('tail', async () => {
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
  for (const [path, code] of [['/', 200], ['/static/app.css', 304], ['/favicon.ico', 404], ['/api/orders/1842', 200], ['/checkout', 200]]) {
    logger('nginx', `10.0.4.${code % 250} "GET ${path} HTTP/1.1" ${code}`, code >= 500 ? 'daemon.err' : 'daemon.info');
  }
  await page.locator('table.events tr', {hasText: '/api/orders/1842'}).waitFor({timeout: 10000});
  await ui.shot('tail');
  await waitSubscribers(1);
  await ui.go('#/alerts');
  await waitSubscribers(0);
  await ui.go('#/tail');
  await waitSubscribers(1);
  await ui.page.close();
  await waitSubscribers(0);
  await ui.finish();
});
