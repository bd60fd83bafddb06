// Shared by the browser scenarios: Debian's chromium (headless) through playwright-core, the
// login, screenshots, and `logger` to the daemon's syslog input. Each scenario exits 0 when it
// passed and 1 on failure.
import {execFileSync} from 'node:child_process';
import {mkdirSync, rmSync} from 'node:fs';
import {join} from 'node:path';
import {chromium} from 'playwright-core';

export const base = process.env.TOCSIN_URL;
export const token = process.env.TOCSIN_TOKEN || '';
export const artifacts = process.env.TOCSIN_ARTIFACTS || 'browser-artifacts';
mkdirSync(artifacts, {recursive: true});

let lastPage = null;  // for a screenshot when the scenario fails

export function check(cond, message) {
  if (!cond) throw new Error(message);
}

// An API call from node (not the browser), with the bearer token unless `anonymous`.
export async function api(path, {method = 'GET', body, anonymous = false} = {}) {
  const headers = {};
  if (!anonymous && token) headers.Authorization = `Bearer ${token}`;
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  const res = await fetch(base + path, {method, headers, body: body === undefined ? undefined : JSON.stringify(body), redirect: 'manual'});
  const text = await res.text();
  let json = null;
  try { json = JSON.parse(text); } catch { /* not JSON */ }
  return {status: res.status, text, json, headers: res.headers};
}

export function logger(tag, message, priority = 'user.err') {
  execFileSync('logger', ['-n', '127.0.0.1', '-P', process.env.TOCSIN_SYSLOG_PORT, '-T',
    '--rfc5424', '-p', priority, '-t', tag, message]);
}

// Waits until the page after a login shows the alerts page with data from the API.
export async function loggedIn(page) {
  await page.waitForFunction(() => /alerts? in \d+ groups?/.test(document.querySelector('.toolbar .summary')?.textContent || ''));
  check(await page.locator('#login').isHidden(), 'the login form is still shown');
}

// A browser with one page. Console errors (a CSP violation among them) and uncaught exceptions
// fail the scenario at finish().
export async function open({login = true, viewport = {width: 1360, height: 860}} = {}) {
  const browser = await chromium.launch({executablePath: process.env.CHROMIUM || '/usr/bin/chromium'});
  const context = await browser.newContext({viewport, deviceScaleFactor: 1, timezoneId: 'UTC', locale: 'en-GB'});
  const page = await context.newPage();
  lastPage = page;
  const problems = [];
  page.on('console', (m) => {
    if (m.type() === 'error' && !/status of 40[14]/.test(m.text())) problems.push(`console: ${m.text()}`);
  });
  page.on('pageerror', (e) => problems.push(`uncaught: ${e.message}`));
  if (login) {
    await page.goto(`${base}/`);
    await page.locator('#login').waitFor({state: 'visible'});
    await page.fill('#token', token);
    await page.click('#login button[type=submit]');
    await loggedIn(page);
  }
  return {
    browser, context, page,
    async go(hash) {
      if (page.url().startsWith(base)) {
        await page.evaluate((h) => { location.hash = h; }, hash);
      } else {
        await page.goto(`${base}/${hash}`);
      }
    },
    async shot(name) {
      await page.screenshot({path: join(artifacts, `${name}.png`)});
      console.log(`screenshot ${join(artifacts, `${name}.png`)}`);
    },
    async finish() {
      await browser.close();
      check(!problems.length, `the page reported problems:\n${problems.join('\n')}`);
    },
  };
}

// Runs a scenario: exit 0, or 1 with the error.
export async function run(name, body) {
  rmSync(join(artifacts, `${name}-FAILED.png`), {force: true});  // from an earlier run
  try {
    await body();
    console.log(`${name}: passed`);
    process.exit(0);
  } catch (e) {
    console.error(`${name}: FAILED: ${e.stack || e}`);
    if (lastPage && !lastPage.isClosed()) {
      await lastPage.screenshot({path: join(artifacts, `${name}-FAILED.png`)}).catch(() => {});
      console.error(`page text: ${(await lastPage.locator('body').innerText().catch(() => '')).slice(0, 2000)}`);
    }
    process.exit(1);
  }
}
