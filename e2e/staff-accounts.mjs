// The story of staff accounts in Chromium, on the real binary: an admin
// (signed in with the staff token) adds a reviewer on /staff/people with
// the keyboard and copies the one-time link; the reviewer opens it in
// their own browser, is refused a common password, sets a good one, signs
// out and in again with e-mail and password, and approves a statement;
// its history names the reviewer; the admin disables the reviewer, and
// the reviewer's next request in the tab still open is refused. Every page
// is scanned with axe-core at 1280 and 390 px. Run by
// cmd/presession/accounts_test.go.
//
//   node staff-accounts.mjs '{"base": "http://127.0.0.1:P", "staffToken": "…", "chromium": "/usr/bin/chromium",
//     "nodeModules": "…/e2e", "statement": "<id of a ready statement>", "title": "…",
//     "reviewer": {"name": "…", "email": "…", "password": "…"}}'
//
// Prints one JSON line per step and, last, {"ok": true, …} or {"ok": false, "error": …}; exits 1 on failure.
import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import assert from 'node:assert/strict';
import { scan, liveText, tabTo } from './checks.mjs';

const spec = JSON.parse(process.argv[2]);
const require = createRequire(join(spec.nodeModules, 'package.json'));
const { chromium } = require('playwright-core');
const axeSource = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');
const base = spec.base;
const started = Date.now();
const timings = {};
const step = (name, extra) => console.log(JSON.stringify({ step: name, ms: Date.now() - started, ...extra }));
const pageErrors = [];
let scans = 0;

async function api(method, path, body) {
  const res = await fetch(base + path, {
    method,
    headers: { Authorization: 'Bearer ' + spec.staffToken, 'Content-Type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const data = await res.json();
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${JSON.stringify(data)}`);
  return data;
}

async function axe(page, label) {
  scans += await scan(page, label, axeSource);
}

function watch(page) {
  page.setDefaultTimeout(10000);
  page.on('console', (m) => { if (m.type() === 'error' && !/Failed to load resource|media/i.test(m.text())) pageErrors.push(m.text()); });
  page.on('pageerror', (e) => pageErrors.push(String(e)));
  page.on('dialog', (d) => d.accept());
}

const browser = await chromium.launch({
  executablePath: spec.chromium || '/usr/bin/chromium',
  headless: true,
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
const result = { ok: false };
try {
  const adminCtx = await browser.newContext({ locale: 'en-GB', viewport: { width: 1280, height: 900 } });
  await adminCtx.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: base });
  const admin = await adminCtx.newPage();
  watch(admin);

  step('admin signs in with the staff token');
  await admin.goto(base + '/staff?lang=en');
  await admin.click('#token-form summary');
  await admin.fill('#token', spec.staffToken);
  await Promise.all([admin.waitForNavigation(), admin.press('#token', 'Enter')]);
  assert.match(await admin.textContent('.staff-me'), /Signed in as service \(Admin\)/);

  step('admin opens the staff accounts by keyboard');
  await tabTo(admin, 'a[href="/staff/people"]');
  await Promise.all([admin.waitForNavigation(), admin.keyboard.press('Enter')]);
  assert.equal(new URL(admin.url()).pathname, '/staff/people');
  await axe(admin, 'people (empty)');

  step('admin adds the reviewer with the keyboard');
  let t0 = Date.now();
  await tabTo(admin, '#m-name');
  await admin.keyboard.type(spec.reviewer.name);
  await admin.keyboard.press('Tab');
  await admin.keyboard.type(spec.reviewer.email);
  await admin.keyboard.press('Tab'); // the role
  await admin.selectOption('#m-role', 'reviewer');
  await admin.focus('#m-role');
  await tabTo(admin, 'form[data-form=member] button[type=submit]');
  await admin.keyboard.press('Enter');
  await admin.waitForSelector('#link-out:not([hidden])');
  assert.equal(await admin.evaluate(() => document.activeElement.id), 'link-out-h', 'the focus moves to the new link');
  await liveText(admin, new RegExp(spec.reviewer.name + ' .* is added'));
  const link = await admin.inputValue('#link-url');
  assert.match(link, /\/staff\/password\?t=/);
  await tabTo(admin, '#link-out button[data-action=copy]');
  await admin.keyboard.press('Enter');
  await liveText(admin, /Copied/);
  assert.equal(await admin.evaluate(() => navigator.clipboard.readText()), link, 'the copy button copies the link');
  timings.add = Date.now() - t0;
  await axe(admin, 'people with a new link');
  await tabTo(admin, '#link-out button[data-action=reload]');
  await Promise.all([admin.waitForNavigation(), admin.keyboard.press('Enter')]);
  const row = await admin.waitForSelector(`tr[data-name="${spec.reviewer.name}"]`);
  const memberID = await row.getAttribute('data-id');
  assert.match(await admin.textContent(`#m-${memberID} [data-role=state]`), /Waiting for their password/);
  await axe(admin, 'people with a member');

  step('the reviewer opens the link in their own browser');
  const revCtx = await browser.newContext({ locale: 'fr-FR', viewport: { width: 1280, height: 900 } });
  const rev = await revCtx.newPage();
  watch(rev);
  await rev.goto(link);
  assert.match(await rev.textContent('main'), new RegExp(spec.reviewer.name));
  assert.equal(await rev.evaluate(() => document.documentElement.lang), 'fr');
  await axe(rev, 'set-password (fr)');
  await rev.goto(link + '&lang=en');
  assert.match(await rev.textContent('#pw-rules'), /At least 12 characters/);

  step('a common password is refused, a good one signs in');
  t0 = Date.now();
  await tabTo(rev, '#password');
  await rev.keyboard.type('password1234');
  await rev.keyboard.press('Tab');
  await rev.keyboard.type('password1234');
  await Promise.all([rev.waitForNavigation(), rev.keyboard.press('Enter')]);
  assert.equal(await rev.getAttribute('#password', 'aria-invalid'), 'true');
  assert.match(await rev.textContent('#pw-error'), /common/);
  await axe(rev, 'set-password refused');
  await rev.fill('#password', spec.reviewer.password);
  await rev.fill('#confirm', spec.reviewer.password);
  await Promise.all([rev.waitForNavigation(), rev.press('#confirm', 'Enter')]);
  assert.equal(new URL(rev.url()).pathname, '/staff');
  assert.match(await rev.textContent('.staff-me'), new RegExp(`${spec.reviewer.name} \\(Reviewer\\)`));
  timings.setPassword = Date.now() - t0;

  step('the used link says to ask an admin');
  const used = await revCtx.newPage();
  watch(used);
  const res = await used.goto(link + '&lang=en');
  assert.equal(res.status(), 410);
  assert.match(await used.textContent('main'), /Ask an admin for a new one/);
  await axe(used, 'set-password link used');
  await used.close();

  step('the reviewer signs out and in with e-mail and password');
  await Promise.all([rev.waitForNavigation(), rev.click('form[action="/staff/logout"] button')]);
  await rev.fill('#email', spec.reviewer.email);
  await rev.fill('#password', spec.reviewer.password);
  await Promise.all([rev.waitForNavigation(), rev.press('#password', 'Enter')]);
  assert.match(await rev.textContent('.staff-me'), new RegExp(spec.reviewer.name));
  assert.equal(await rev.$('a[href="/staff/people"]'), null, 'a reviewer has no link to the staff accounts');
  assert.equal(await rev.$('#webhooks'), null, 'a reviewer sees no webhooks');
  await axe(rev, 'dashboard of a reviewer');

  step('the reviewer approves the statement by keyboard');
  t0 = Date.now();
  await tabTo(rev, `#st-${spec.statement} button[data-action=approve]`);
  await Promise.all([rev.waitForNavigation(), rev.keyboard.press('Enter')]);
  await liveText(rev, /is approved/);
  timings.approve = Date.now() - t0;
  const st = await api('GET', `/api/v1/statements/${spec.statement}`);
  const last = st.history.at(-1);
  assert.equal(st.status, 'approved');
  assert.equal(last.actor, `staff:${memberID}`);
  assert.equal(last.actor_name, spec.reviewer.name);
  await rev.click(`#st-${spec.statement} details.history summary`);
  assert.match(await rev.textContent(`#st-${spec.statement} ol.history li:first-child`), new RegExp(`by ${spec.reviewer.name}`));

  step('the admin disables the reviewer');
  t0 = Date.now();
  await admin.reload();
  await tabTo(admin, `#m-${memberID} button[data-action=disable]`);
  await Promise.all([admin.waitForNavigation(), admin.keyboard.press('Enter')]);
  await liveText(admin, /is disabled/);
  assert.match(await admin.textContent(`#m-${memberID} [data-role=state]`), /Disabled/);
  await axe(admin, 'people with a disabled member');

  step("the reviewer's next request in the open tab is refused");
  await tabTo(rev, `#st-${spec.statement} button[data-action=reopen]`);
  await rev.keyboard.press('Enter');
  const refused = await liveText(rev, /sign in|staff sign-in/i);
  timings.disable = Date.now() - t0;
  const after = await api('GET', `/api/v1/statements/${spec.statement}`);
  assert.equal(after.status, 'approved', 'the refused reopen changed nothing');
  await rev.reload();
  assert.ok(await rev.isVisible('#email'), 'the reloaded dashboard asks to sign in');

  assert.deepEqual(pageErrors, [], 'no page errors');
  Object.assign(result, { ok: true, member: memberID, refused, scans, timings });
} catch (e) {
  result.error = String(e && e.stack || e);
  result.pageErrors = pageErrors;
} finally {
  await browser.close();
}
console.log(JSON.stringify(result));
process.exit(result.ok ? 0 : 1);
