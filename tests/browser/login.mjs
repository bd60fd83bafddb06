// Without a session the API answers 401 and the page shows the login form; a wrong token says
// so; the right one opens the alerts page; "Log out" ends the session.
import {api, check, loggedIn, open, run, token} from './lib.mjs';

run('login', async () => {
  const anonymous = await api('/api/v2/alerts', {anonymous: true});
  check(anonymous.status === 401, `the API answered ${anonymous.status} without a token`);
  const ui = await open({login: false});
  const {page} = ui;
  await ui.go('#/alerts');
  await page.locator('#login').waitFor({state: 'visible'});
  check(await page.locator('#view .group').count() === 0, 'alerts shown without login');
  await ui.shot('login');
  await page.fill('#token', 'not-the-token');
  await page.click('#login button[type=submit]');
  await page.locator('#login-failed').waitFor({state: 'visible'});
  await page.fill('#token', token);
  await page.click('#login button[type=submit]');
  await loggedIn(page);
  const cookies = await ui.context.cookies();
  const session = cookies.find((c) => c.name === 'tocsin_session');
  check(session && session.httpOnly && session.sameSite === 'Strict', `session cookie: ${JSON.stringify(session)}`);
  check(await page.evaluate(() => document.cookie) === '', 'the page script can read the session cookie');
  await page.click('#logout button');
  await page.locator('#login').waitFor({state: 'visible'});
  await ui.finish();
});
