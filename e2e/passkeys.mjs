// Drives staff passkeys in Chromium with a virtual authenticator (CDP
// WebAuthn domain: a CTAP2 platform authenticator with resident keys and
// user verification), by keyboard: a member signs in with email and
// password, adds a passkey on /staff/me and renames it, signs out, signs in
// with the passkey alone; signs in with email and password, is asked for
// the passkey as second factor and finishes with it; removes the passkey,
// and then the passkey no longer signs in while the password alone does. A
// disabled member is refused, by the passkey alone and at the passkey step.
// Every page state is scanned with axe-core at desktop and phone width, in
// en, fr and es. Run by passkey/e2e_test.go, which passes the fixtures in
// the environment:
//   BASE_URL (on localhost: WebAuthn refuses IP addresses), CHROMIUM,
//   USER_DATA_DIR, NODE_MODULES_DIR, EMAIL, PASSWORD, MEMBER_URL (a test-only
//   hook: POST ?disabled=1 disables the member, ?disabled=0 enables them).
import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';
import assert from 'node:assert/strict';

const env = process.env;
const require = createRequire((env.NODE_MODULES_DIR || process.cwd()) + '/');
const { chromium } = require('playwright-core');
const axeSource = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');

const base = env.BASE_URL;
// shot saves a screenshot when SCREENSHOT_DIR is set (to look at the pages).
const shot = async (page, name) => { if (env.SCREENSHOT_DIR) await page.screenshot({ path: `${env.SCREENSHOT_DIR}/${name}.png`, fullPage: true }); };
const step = (name) => console.log(JSON.stringify({ step: name, at: new Date().toISOString() }));

async function axe(page, label) {
  await page.evaluate(axeSource);
  const res = await page.evaluate(async () => {
    // eslint-disable-next-line no-undef
    const r = await axe.run(document, { resultTypes: ['violations'] });
    if (r.passes.length === 0) return [{ id: 'axe-did-not-run', impact: 'critical' }];
    return r.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.slice(0, 3).map((n) => n.target.join(' ')) }));
  });
  const bad = res.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  assert.deepEqual(bad, [], `axe ${label}: ${JSON.stringify(bad, null, 1)}`);
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
  const wide = overflow <= 0 ? [] : await page.evaluate(() => [...document.querySelectorAll('body *')]
    .filter((el) => el.getBoundingClientRect().right > document.documentElement.clientWidth + 1)
    .slice(-3).map((el) => el.outerHTML.slice(0, 160)));
  assert.ok(overflow <= 0, `${label}: the page overflows horizontally by ${overflow}px: ${wide.join(' | ')}`);
}

// everyWay scans the page at path in every language at both widths, then
// comes back to English at desktop width.
async function everyWay(page, path, label) {
  for (const lang of ['en', 'fr', 'es']) {
    for (const width of [1280, 390]) {
      await page.setViewportSize({ width, height: 900 });
      await page.goto(base + path + (path.includes('?') ? '&' : '?') + 'lang=' + lang);
      await axe(page, `${label} ${lang} ${width}px`);
    }
  }
  await page.setViewportSize({ width: 1280, height: 900 });
  await page.goto(base + path + (path.includes('?') ? '&' : '?') + 'lang=en');
}

// tabTo presses Tab until the element matching selector has the focus.
async function tabTo(page, selector) {
  for (let i = 0; i < 60; i++) {
    if (await page.evaluate((s) => document.activeElement && document.activeElement.matches(s), selector)) return;
    await page.keyboard.press('Tab');
  }
  throw new Error(`Tab never reached ${selector}`);
}

async function liveText(page, id, re) {
  try {
    await page.waitForFunction(([i, src]) => new RegExp(src).test(document.getElementById(i).textContent), [id, re.source], { timeout: 10000 });
  } catch (e) {
    throw new Error(`#${id} never said ${re}; it says ${JSON.stringify(await page.textContent('#' + id))}`);
  }
}

async function passwordSignIn(page) {
  await page.goto(base + '/staff?lang=en');
  await page.fill('#email', env.EMAIL);
  await page.fill('#password', env.PASSWORD);
  await Promise.all([page.waitForNavigation(), page.press('#password', 'Enter')]);
}

async function signOut(page) {
  await Promise.all([page.waitForNavigation(), page.click('form[action="/staff/logout"] button')]);
  assert.ok(await page.isVisible('#pk-login'), 'after sign-out the sign-in page offers the passkey');
}

// dashboard waits for the dashboard that a passkey sign-in goes to.
async function dashboard(page) {
  await page.waitForSelector('form[action="/staff/logout"]', { timeout: 10000 });
  assert.equal(new URL(page.url()).pathname, '/staff');
}

async function signedIn(page) {
  const res = await page.request.get(base + '/staff/me?lang=en');
  return res.ok() && (await res.text()).includes(env.EMAIL);
}

const ctx = await chromium.launchPersistentContext(env.USER_DATA_DIR, {
  executablePath: env.CHROMIUM || '/usr/bin/chromium',
  headless: true,
  viewport: { width: 1280, height: 900 },
  locale: 'en-GB',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
const errors = [];
try {
  const page = ctx.pages()[0] || (await ctx.newPage());
  page.setDefaultTimeout(10000);
  page.on('console', (m) => { if (m.type() === 'error' && !/Failed to load resource/i.test(m.text())) errors.push(m.text()); });
  page.on('pageerror', (e) => errors.push(String(e)));

  const cdp = await ctx.newCDPSession(page);
  await cdp.send('WebAuthn.enable');
  const { authenticatorId } = await cdp.send('WebAuthn.addVirtualAuthenticator', {
    options: { protocol: 'ctap2', transport: 'internal', hasResidentKey: true, hasUserVerification: true, isUserVerified: true },
  });

  step('sign-in page');
  await everyWay(page, '/staff', 'sign-in');

  step('password sign-in, no passkey yet');
  await passwordSignIn(page);
  assert.ok(await signedIn(page), 'the password alone signs in a member without passkeys');

  step('my account');
  await everyWay(page, '/staff/me', 'my account, no passkey');
  await tabTo(page, '#pk-name');
  await page.keyboard.press('Enter'); // no name yet
  await liveText(page, 'pk-live', /name/i);
  assert.equal(await page.getAttribute('#pk-name', 'aria-invalid'), 'true');
  await page.focus('#pk-name');
  await page.keyboard.type('Work laptop');
  await Promise.all([page.waitForURL(/done=added/), page.keyboard.press('Enter')]);
  await liveText(page, 'pk-live', /added/);
  assert.match(await page.textContent('table.passkeys'), /Work laptop/);
  const { credentials } = await cdp.send('WebAuthn.getCredentials', { authenticatorId });
  assert.equal(credentials.length, 1, 'the authenticator holds one credential');
  assert.ok(credentials[0].isResidentCredential, 'a discoverable credential');
  await everyWay(page, '/staff/me', 'my account, one passkey');
  await shot(page, 'me');

  step('rename');
  await tabTo(page, '#rename-0');
  await page.keyboard.press('Control+A');
  await page.keyboard.type('Office laptop');
  await Promise.all([page.waitForURL(/done=renamed/), page.keyboard.press('Enter')]);
  assert.match(await page.textContent('table.passkeys'), /Office laptop/);

  step('passkey alone');
  await signOut(page);
  assert.ok(!(await signedIn(page)), 'signed out');
  await tabTo(page, '#pk-login');
  await page.keyboard.press('Enter');
  await dashboard(page);
  assert.ok(await signedIn(page), 'the passkey alone signs in');

  step('password, then the passkey as second factor');
  await signOut(page);
  await passwordSignIn(page);
  assert.match(page.url(), /second=1/, 'a member with a passkey is asked for it after the password');
  assert.ok(!(await signedIn(page)), 'the password alone does not sign in a member with a passkey');
  await everyWay(page, '/staff?second=1', 'second factor');
  await shot(page, 'second');
  await tabTo(page, '#pk-second');
  await page.keyboard.press('Enter');
  await dashboard(page);
  assert.ok(await signedIn(page), 'the passkey finishes the password sign-in');

  step('a disabled member is refused');
  const member = async (disabled) => {
    const res = await fetch(env.MEMBER_URL + '?disabled=' + (disabled ? 1 : 0), { method: 'POST' });
    assert.ok(res.ok, `member hook: ${res.status} ${await res.text()}`);
  };
  await member(true);
  await page.goto(base + '/staff?lang=en');
  assert.ok(await page.isVisible('#pk-login'), 'disabling ended the session');
  await tabTo(page, '#pk-login');
  await page.keyboard.press('Enter');
  await liveText(page, 'pk-login-live', /disabled/);
  assert.ok(!(await signedIn(page)), 'a disabled member is not signed in by their passkey');
  await member(false);
  await passwordSignIn(page);
  assert.match(page.url(), /second=1/);
  await member(true);
  await tabTo(page, '#pk-second');
  await page.keyboard.press('Enter');
  await liveText(page, 'pk-second-live', /expired/);
  assert.ok(!(await signedIn(page)), 'the passkey step of a member disabled meanwhile signs nobody in');
  await member(false);
  await passwordSignIn(page);
  await tabTo(page, '#pk-second');
  await page.keyboard.press('Enter');
  await dashboard(page);

  step('remove');
  await page.goto(base + '/staff/me?lang=en');
  await tabTo(page, 'form[action$="/remove"] button');
  await Promise.all([page.waitForURL(/done=removed/), page.keyboard.press('Enter')]);
  await liveText(page, 'pk-live', /removed/);
  assert.equal(await page.locator('table.passkeys').count(), 0);
  await everyWay(page, '/staff/me?done=removed', 'my account, passkey removed');

  step('a removed passkey no longer signs in');
  await signOut(page);
  await tabTo(page, '#pk-login');
  await page.keyboard.press('Enter');
  await liveText(page, 'pk-login-live', /could not sign you in/);
  assert.ok(!(await signedIn(page)), 'the removed passkey signed nobody in');
  await axe(page, 'sign-in, passkey refused');
  await shot(page, 'refused');

  step('the password alone signs in again');
  await passwordSignIn(page);
  assert.ok(!page.url().includes('second'), 'no passkey left to ask for');
  assert.ok(await signedIn(page), 'signed in with the password');

  assert.deepEqual(errors, [], 'console errors');
  step('done');
} finally {
  await ctx.close();
}
