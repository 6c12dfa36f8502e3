// Drives the staff dashboard in Chromium, as staff would: sign in, review,
// reorder with the keyboard, upload captions, create links and invitations
// (with contacts, and from a CSV file), revoke one of each, watch a
// progress bar move, search from the keyboard; checks the API state after each step, and scans every
// state with axe-core at desktop and phone width. Run by
// review/e2e_test.go, which passes the fixtures in the environment:
//   BASE_URL, STAFF_TOKEN, CHROMIUM, USER_DATA_DIR, NODE_MODULES_DIR,
//   READY_ID, READY2_ID, APPROVED1_ID, APPROVED2_ID, PROCESSING_ID,
//   CAPTION_FILE, PROGRESS_URL (a test-only hook that sets progress),
//   WEBHOOK_ID (a registered endpoint with deliveries).
import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';
import assert from 'node:assert/strict';

const env = process.env;
const require = createRequire((env.NODE_MODULES_DIR || process.cwd()) + '/');
const { chromium } = require('playwright-core');
const axeSource = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');

const base = env.BASE_URL;
const step = (name) => console.log(JSON.stringify({ step: name, at: new Date().toISOString() }));

async function api(method, path, body) {
  const res = await fetch(base + path, {
    method,
    headers: { Authorization: 'Bearer ' + env.STAFF_TOKEN, 'Content-Type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const data = await res.json();
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${JSON.stringify(data)}`);
  return data;
}

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
  assert.ok(overflow <= 0, `${label}: the page overflows horizontally by ${overflow}px`);
}

async function liveText(page, re) {
  try {
    await page.waitForFunction((src) => new RegExp(src).test(document.getElementById('live').textContent), re.source, { timeout: 10000 });
  } catch (e) {
    throw new Error(`live region never said ${re}; it says ${JSON.stringify(await page.textContent('#live'))}, focus on ${await page.evaluate(() => document.activeElement.outerHTML.slice(0, 200))}`);
  }
  return page.textContent('#live');
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
  await ctx.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: base });
  const page = ctx.pages()[0] || (await ctx.newPage());
  page.setDefaultTimeout(10000);
  page.on('console', (m) => { if (m.type() === 'error' && !/Failed to load resource|media/i.test(m.text())) errors.push(m.text()); });
  page.on('pageerror', (e) => errors.push(String(e)));

  step('sign-in form');
  await page.goto(base + '/staff?lang=en');
  await axe(page, 'sign-in');
  assert.ok(await page.isVisible('#email'), 'the e-mail and password form comes first');
  await page.fill('#email', 'nobody@example.org');
  await page.fill('#password', 'not the password at all');
  await Promise.all([page.waitForNavigation(), page.press('#password', 'Enter')]);
  assert.equal(await page.getAttribute('#password', 'aria-invalid'), 'true');
  assert.match(await page.getAttribute('#password', 'aria-describedby'), /password-error/);
  assert.match(await page.textContent('#password-error'), /e-mail address or the password is wrong/);
  assert.equal(await page.inputValue('#email'), 'nobody@example.org', 'the address typed stays');
  await axe(page, 'password sign-in with error');
  await page.setViewportSize({ width: 390, height: 844 });
  await axe(page, 'password sign-in with error, 390 px');
  await page.setViewportSize({ width: 1280, height: 900 });
  await page.click('#token-form summary'); // the staff token's form, for bootstrap, is collapsed
  await page.fill('#token', 'not-the-token');
  await Promise.all([page.waitForNavigation(), page.press('#token', 'Enter')]);
  assert.equal(await page.getAttribute('#token', 'aria-invalid'), 'true');
  assert.match(await page.getAttribute('#token', 'aria-describedby'), /token-error/);
  assert.match(await page.textContent('#token-error'), /not the staff token/);
  await axe(page, 'sign-in with error');
  await page.setViewportSize({ width: 390, height: 844 });
  await axe(page, 'sign-in with error, 390 px');
  await page.setViewportSize({ width: 1280, height: 900 });
  await page.fill('#token', env.STAFF_TOKEN);
  await Promise.all([page.waitForNavigation(), page.press('#token', 'Enter')]);
  assert.ok(await page.isVisible(`#st-${env.READY_ID}`), 'the ready statement is listed');
  assert.match(await page.textContent(`#st-${env.READY_ID} [data-role=status]`), /Ready for review/);
  await axe(page, 'dashboard');

  step('progress updates without reload');
  const bar = `#st-${env.PROCESSING_ID} progress`;
  assert.equal(await page.$eval(bar, (b) => b.value), 37);
  await page.evaluate(() => { window.__noReload = true; });
  await fetch(env.PROGRESS_URL + '&pct=81', { method: 'POST' });
  await page.waitForFunction((sel) => document.querySelector(sel).value === 81, bar, { timeout: 10000 });
  assert.match(await page.textContent(`#st-${env.PROCESSING_ID} [data-role=pct]`), /81 %/);
  assert.equal(await page.evaluate(() => window.__noReload), true, 'the page did not reload');

  step('preview');
  const pv = `#st-${env.READY_ID} button[data-action=preview]`;
  await page.focus(pv);
  await page.keyboard.press('Enter');
  assert.equal(await page.getAttribute(pv, 'aria-expanded'), 'true');
  const src = await page.$eval(`#pv-${env.READY_ID} video`, (v) => v.getAttribute('src'));
  assert.equal(src, `/media/${env.READY_ID}/master.m3u8`, 'Chromium plays HLS natively');
  await page.keyboard.press('Enter');
  assert.equal(await page.getAttribute(pv, 'aria-expanded'), 'false');

  step('approve');
  await page.focus(`#st-${env.READY_ID} button[data-action=approve]`);
  await Promise.all([page.waitForNavigation(), page.keyboard.press('Enter')]);
  await liveText(page, /is approved/);
  assert.equal(await page.evaluate(() => document.activeElement.id), 'live', 'the message has the focus after the reload');
  let st = await api('GET', `/api/v1/statements/${env.READY_ID}`);
  assert.equal(st.status, 'approved');
  assert.equal(st.history.at(-1).actor, 'service');
  assert.ok(await page.isVisible(`#st-${env.READY_ID} button[data-action=reopen]`));

  step('reject needs a reason');
  const reason = `#reason-${env.READY2_ID}`;
  await page.focus(`#st-${env.READY2_ID} .reject-form button[type=submit]`);
  await page.keyboard.press('Enter');
  assert.equal(await page.getAttribute(reason, 'aria-invalid'), 'true');
  assert.equal(await page.evaluate(() => document.activeElement.getAttribute('name')), 'reason');
  assert.match(await page.textContent(`#reason-${env.READY2_ID}-error`), /reason/i);
  await page.keyboard.type('Not about the country under review');
  await Promise.all([page.waitForNavigation(), page.keyboard.press('Enter')]);
  await liveText(page, /is rejected/);
  st = await api('GET', `/api/v1/statements/${env.READY2_ID}`);
  assert.equal(st.status, 'rejected');
  assert.equal(st.reason, 'Not about the country under review');

  step('reorder with the keyboard');
  const ol = 'ol.order[data-country=AD]';
  const ids = async () => page.$$eval(`${ol} > li`, (lis) => lis.map((li) => li.dataset.id));
  assert.deepEqual(await ids(), [env.APPROVED1_ID, env.APPROVED2_ID, env.READY_ID]);
  const down1 = `${ol} li[data-id="${env.APPROVED1_ID}"] button[data-action=down]`;
  await page.focus(down1);
  await page.keyboard.press('Enter');
  await liveText(page, /moved to position 2 of 3/);
  assert.deepEqual(await ids(), [env.APPROVED2_ID, env.APPROVED1_ID, env.READY_ID]);
  assert.equal(await page.evaluate(() => document.activeElement.closest('li')?.dataset.id + ':' + document.activeElement.dataset.action),
    `${env.APPROVED1_ID}:down`, 'focus stays on the moved item');
  let order = await api('GET', '/api/v1/sessions/upr36/countries/AD/order');
  assert.deepEqual(order.statements, [env.APPROVED2_ID, env.APPROVED1_ID, env.READY_ID]);
  await page.keyboard.press('Space'); // again: to the end
  await liveText(page, /moved to position 3 of 3/);
  assert.equal(await page.getAttribute(down1, 'aria-disabled'), 'true');
  await page.keyboard.press('Enter'); // already last: nothing moves
  await liveText(page, /already last/);
  await page.keyboard.press('Shift+Tab'); // to its "up" button
  assert.equal(await page.evaluate(() => document.activeElement.dataset.action), 'up');
  await page.keyboard.press('Enter');
  await liveText(page, /moved to position 2 of 3/);
  order = await api('GET', '/api/v1/sessions/upr36/countries/AD/order');
  assert.deepEqual(order.statements, [env.APPROVED2_ID, env.APPROVED1_ID, env.READY_ID]);
  assert.deepEqual(await ids(), order.statements);

  step('caption upload');
  const row = `#st-${env.READY_ID}`;
  await page.selectOption(`${row} select[name=lang]`, 'fr');
  await page.click(`${row} .caption-form button[type=submit]`);
  assert.equal(await page.getAttribute(`#cap-file-${env.READY_ID}`, 'aria-invalid'), 'true', 'no file chosen: the field says so');
  await page.setInputFiles(`#cap-file-${env.READY_ID}`, env.CAPTION_FILE);
  await page.click(`${row} .caption-form button[type=submit]`);
  await liveText(page, /Captions in Français uploaded/);
  assert.equal(await page.getAttribute(`#cap-file-${env.READY_ID}`, 'aria-invalid'), null);
  assert.match(await page.textContent(`${row} li[data-caption=fr] [data-role=caption-state]`), /uploaded/);
  st = await api('GET', `/api/v1/statements/${env.READY_ID}`);
  const fr = st.captions.find((c) => c.language === 'fr');
  assert.equal(fr.placeholder, false);
  assert.ok(fr.updated_at);
  // A bad file: the error is tied to the field.
  await page.setInputFiles(`#cap-file-${env.READY_ID}`, { name: 'bad.srt', mimeType: 'application/x-subrip', buffer: Buffer.from('not captions\n') });
  await page.click(`${row} .caption-form button[type=submit]`);
  await page.waitForFunction((id) => document.getElementById(`cap-file-${id}`).getAttribute('aria-invalid') === 'true', env.READY_ID);
  assert.match(await page.textContent(`#cap-file-${env.READY_ID}-error`), /cannot be used/);

  step('invitation and viewer links');
  await page.click('form[data-form=invite] button[type=submit]');
  assert.equal(await page.getAttribute('#inv-org', 'aria-invalid'), 'true');
  await page.selectOption('#inv-country', 'BG');
  await page.fill('#inv-org', 'Bulgarian Helsinki Committee');
  await page.click('form[data-form=invite] button[type=submit]');
  // Pre-session 36's deadlines have passed: the extension field says so.
  await page.waitForFunction(() => document.getElementById('inv-until').getAttribute('aria-invalid') === 'true');
  assert.match(await page.textContent('#inv-until-error'), /deadline/);
  assert.equal(await page.getAttribute('#inv-org', 'aria-invalid'), null);
  await page.fill('#inv-until', '2099-12-31');
  // A malformed contact address: the addresses field says so.
  await page.fill('#inv-emails', 'bhc@example.org, not-an-address');
  await page.click('form[data-form=invite] button[type=submit]');
  await page.waitForFunction(() => document.getElementById('inv-emails').getAttribute('aria-invalid') === 'true');
  assert.match(await page.textContent('#inv-emails-error'), /not-an-address/);
  assert.equal(await page.evaluate(() => document.activeElement.id), 'inv-emails', 'the refused field has the focus');
  await page.fill('#inv-emails', 'bhc@example.org, office@example.org');
  await page.selectOption('#inv-lang', 'fr');
  await page.focus('form[data-form=invite] button[type=submit]');
  await page.keyboard.press('Enter');
  await page.waitForFunction(() => document.getElementById('inv-url').value !== '');
  const invURL = await page.inputValue('#inv-url');
  assert.match(invURL, /\/upload\?token=/);
  assert.equal(await page.getAttribute('#inv-emails', 'aria-invalid'), null);
  let invs = await api('GET', '/api/v1/invitations?country=BG');
  const bhc = invs.invitations.find((i) => i.organisation === 'Bulgarian Helsinki Committee');
  assert.deepEqual(bhc.emails, ['bhc@example.org', 'office@example.org']);
  assert.equal(bhc.language, 'fr');
  assert.equal(bhc.created_by, 'service');
  await page.click('form[data-form=invite] button[data-action=copy]');
  await liveText(page, /Link copied|Copying failed/);
  await page.fill('#vw-days', '7');
  await page.selectOption('#vw-country', 'AD');
  await page.fill('#vw-for', 'Delegation of Andorra');
  await page.click('form[data-form=viewer] button[type=submit]');
  await page.waitForFunction(() => document.getElementById('vw-url').value !== '');
  assert.match(await page.inputValue('#vw-url'), /\/watch\/upr36\/ad\?key=/);
  step('import invitations from a CSV file');
  const head = 'session,country,organisation,email,language,until\n';
  const badCSV = head + 'upr36,HR,Kuća ljudskih prava,kuca@example.org,es,2099-06-30\nupr36,HR,Bad mail,jane@,en,2099-06-30\nupr36,AD,Closed,c@example.org,en,\n';
  await page.focus('form[data-form=import] button[type=submit]');
  await page.keyboard.press('Enter');
  assert.equal(await page.getAttribute('#imp-file', 'aria-invalid'), 'true', 'no file chosen: the field says so');
  await page.setInputFiles('#imp-file', { name: 'invitations.csv', mimeType: 'text/csv', buffer: Buffer.from(badCSV) });
  await page.focus('form[data-form=import] button[type=submit]');
  await page.keyboard.press('Enter');
  await page.waitForSelector('#imp-rows:not([hidden]) li');
  const rowsText = await page.$$eval('#imp-rows li', (lis) => lis.map((li) => li.textContent));
  assert.equal(rowsText.length, 2, JSON.stringify(rowsText));
  assert.match(rowsText[0], /^Line 3, email: .*jane@/);
  assert.match(rowsText[1], /^Line 4, until: /);
  assert.match(await page.textContent('#imp-file-error'), /2 rows of the file cannot be used; nothing was created/);
  assert.equal(await page.evaluate(() => document.activeElement.id), 'imp-file', 'the file field has the focus');
  await axe(page, 'import refused');
  invs = await api('GET', '/api/v1/invitations');
  const before = invs.total;
  const goodCSV = '\ufeff' + head + 'upr36,HR,Kuća ljudskih prava,kuca@example.org,es,2099-06-30\nupr36,MV,Maldivian Democracy Network,mdn@example.org;info@mdn.example.org,,2099-06-30\n';
  await page.setInputFiles('#imp-file', { name: 'invitations.csv', mimeType: 'text/csv', buffer: Buffer.from(goodCSV) });
  await page.focus('form[data-form=import] button[type=submit]');
  await Promise.all([page.waitForNavigation(), page.keyboard.press('Enter')]);
  await liveText(page, /2 invitations created, 0 already existed/);
  invs = await api('GET', '/api/v1/invitations');
  assert.equal(invs.total, before + 2);
  const mdn = invs.invitations.find((i) => i.organisation === 'Maldivian Democracy Network');
  assert.ok(await page.isVisible(`#inv-${mdn.id}`), 'the imported invitation is listed');
  assert.match(await page.textContent(`#inv-${mdn.id}`), /info@mdn\.example\.org/);
  assert.match(await page.textContent(`#inv-${mdn.id}`), /Not yet/);
  assert.match(await page.textContent(`#inv-${bhc.id}`), /office@example\.org/);
  // The same file again creates nothing.
  await page.setInputFiles('#imp-file', { name: 'invitations.csv', mimeType: 'text/csv', buffer: Buffer.from(goodCSV) });
  await page.focus('form[data-form=import] button[type=submit]');
  await Promise.all([page.waitForNavigation(), page.keyboard.press('Enter')]);
  await liveText(page, /0 invitations created, 2 already existed/);
  assert.equal((await api('GET', '/api/v1/invitations')).total, before + 2);
  step('webhooks: register with the keyboard, refusals, secret once, remove');
  assert.ok(await page.isVisible(`#wh-${env.WEBHOOK_ID} table.deliveries`), 'the seeded endpoint lists its deliveries');
  await page.focus('#wh-url');
  await page.keyboard.press('Enter'); // nothing typed
  assert.equal(await page.getAttribute('#wh-url', 'aria-invalid'), 'true');
  assert.equal(await page.evaluate(() => document.activeElement.id), 'wh-url');
  await page.keyboard.type('http://127.0.0.1:9/hook');
  await page.keyboard.press('Enter'); // no event chosen
  assert.match(await page.textContent('#wh-events-error'), /at least one event/);
  assert.equal(await page.evaluate(() => document.activeElement.id), 'wh-ev-statement_uploaded', 'focus on the first event');
  await page.keyboard.press('Space');
  await page.keyboard.press('Tab');
  await page.keyboard.press('Tab');
  await page.keyboard.press('Space'); // statement.failed too
  await page.focus('#wh-url');
  await page.keyboard.press('Enter');
  await page.waitForFunction(() => document.getElementById('wh-url').getAttribute('aria-invalid') === 'true' && /loopback/.test(document.getElementById('wh-url-error').textContent));
  assert.equal(await page.evaluate(() => document.getElementById('wh-events-error').hidden), true);
  await page.fill('#wh-url', 'https://hooks.example.org/presession');
  await page.keyboard.press('Enter');
  await page.waitForFunction(() => document.getElementById('wh-secret').value.startsWith('whsec_'));
  assert.equal(await page.evaluate(() => document.activeElement.id), 'wh-secret', 'the secret has the focus');
  await liveText(page, /signing secret/);
  let hooks = await api('GET', '/api/v1/webhooks');
  const mine = hooks.webhooks.find((w) => w.url === 'https://hooks.example.org/presession');
  assert.ok(mine, 'registered');
  assert.deepEqual(mine.events, ['statement.uploaded', 'statement.failed']);
  assert.equal(mine.secret, undefined, 'the list shows no secret');
  await axe(page, 'webhook registered');
  await Promise.all([page.waitForNavigation(), page.click('form[data-form=webhook] button[data-action=reload]')]);
  assert.ok(await page.isVisible(`#wh-${mine.id}`), 'listed after the reload');
  assert.equal(await page.evaluate(() => document.body.textContent.includes('whsec_')), false, 'the secret is not shown again');
  page.once('dialog', (d) => d.accept());
  await page.focus(`#wh-${mine.id} button[data-action=wh-remove]`);
  await Promise.all([page.waitForNavigation(), page.keyboard.press('Enter')]);
  await liveText(page, /removed/);
  hooks = await api('GET', '/api/v1/webhooks');
  assert.deepEqual(hooks.webhooks.map((w) => w.id), [env.WEBHOOK_ID]);

  step('revoke an upload link and a viewing link with the keyboard');
  const vl = (await api('GET', '/api/v1/viewer-links?country=AD')).viewer_links.find((l) => l.for === 'Delegation of Andorra');
  assert.equal(vl.state, 'active');
  assert.match(await page.textContent(`#vl-${vl.id}`), /Delegation of Andorra/);
  let asked = '';
  page.once('dialog', (d) => { asked = d.message(); d.accept(); });
  await page.focus(`#inv-${bhc.id} button[data-action=inv-revoke]`);
  await Promise.all([page.waitForNavigation(), page.keyboard.press('Enter')]);
  assert.match(asked, /Revoke the upload link of Bulgarian Helsinki Committee\?/);
  await liveText(page, /upload link of Bulgarian Helsinki Committee is revoked/);
  const revoked = (await api('GET', '/api/v1/invitations?country=BG')).invitations.find((i) => i.id === bhc.id);
  assert.ok(revoked.revoked_at, 'the invitation is revoked');
  assert.equal(revoked.revoked_by, 'service');
  assert.match(await page.textContent(`#inv-${bhc.id}`), /Revoked/);
  assert.equal(await page.$(`#inv-${bhc.id} button[data-action=inv-revoke]`), null, 'no revoke button once revoked');
  // Dismissing the confirmation changes nothing.
  page.once('dialog', (d) => d.dismiss());
  await page.focus(`#vl-${vl.id} button[data-action=vl-revoke]`);
  await page.keyboard.press('Enter');
  assert.equal((await api('GET', '/api/v1/viewer-links?country=AD')).viewer_links.find((l) => l.id === vl.id).state, 'active');
  page.once('dialog', (d) => d.accept());
  await Promise.all([page.waitForNavigation(), page.keyboard.press('Enter')]);
  await liveText(page, /viewing link for Delegation of Andorra is revoked/);
  assert.equal((await api('GET', '/api/v1/viewer-links?country=AD')).viewer_links.find((l) => l.id === vl.id).state, 'revoked');
  assert.match(await page.textContent(`#vl-${vl.id}`), /Revoked/);
  await axe(page, 'after the revocations');

  await axe(page, 'dashboard after every step');
  if (env.SCREENSHOT_DIR) await page.screenshot({ path: `${env.SCREENSHOT_DIR}/staff-en-1280.png`, fullPage: true });

  step('search by keyboard, at desktop and phone width, in every language');
  const found = {
    en: [/Showing statements 1–1 of 1\./, /No statement matches “nothing like this” in this selection\./, 'Clear the search'],
    fr: [/Déclarations 1 à 1 sur 1\./, /Aucune déclaration ne correspond à « nothing like this » dans cette sélection\./, 'Effacer la recherche'],
    es: [/Declaraciones 1 a 1 de 1\./, /Ninguna declaración corresponde a «nothing like this» en esta selección\./, 'Borrar la búsqueda'],
  };
  for (const lang of ['en', 'fr', 'es']) {
    for (const width of [1280, 390]) {
      await page.setViewportSize({ width, height: width > 400 ? 900 : 844 });
      await page.goto(base + '/staff?lang=' + lang);
      await page.focus('#f-q');
      // Case and accents do not matter; the organisation is "Org of Another one".
      await page.keyboard.type('ORG OF ANÓTHER');
      await Promise.all([page.waitForNavigation(), page.keyboard.press('Enter')]);
      assert.equal(new URL(page.url()).searchParams.get('q'), 'ORG OF ANÓTHER');
      assert.equal(await page.inputValue('#f-q'), 'ORG OF ANÓTHER', 'the field keeps the search');
      assert.deepEqual(await page.$$eval('#statements-table tr[data-id]', (trs) => trs.map((tr) => tr.dataset.id)), [env.READY2_ID]);
      assert.match(await page.textContent('#showing'), found[lang][0]);
      await axe(page, `search ${lang} ${width}px`);
      // The filters combine: status "ready" chosen from the keyboard (it is
      // the fourth after "All statuses"), and a search that finds nothing.
      await page.focus('#f-status');
      for (let i = 0; i < 4; i++) await page.keyboard.press('ArrowDown');
      assert.equal(await page.inputValue('#f-status'), 'ready');
      await page.focus('#f-q');
      await page.keyboard.press('Control+A');
      await page.keyboard.type('nothing like this');
      await Promise.all([page.waitForNavigation(), page.keyboard.press('Enter')]);
      let q = new URL(page.url()).searchParams;
      assert.deepEqual([q.get('status'), q.get('q')], ['ready', 'nothing like this']);
      assert.match(await page.textContent('#showing'), found[lang][1]);
      assert.equal(await page.$('#statements-table'), null);
      await axe(page, `empty search ${lang} ${width}px`);
      // The way back, by keyboard: the same selection without the search.
      await page.getByRole('link', { name: found[lang][2] }).focus();
      await Promise.all([page.waitForNavigation(), page.keyboard.press('Enter')]);
      q = new URL(page.url()).searchParams;
      assert.deepEqual([q.get('status'), q.get('q')], ['ready', null]);
      assert.equal(await page.inputValue('#f-q'), '');
    }
  }
  // A search too long says why, beside the field.
  await page.goto(base + '/staff?lang=en&q=' + 'x'.repeat(201));
  assert.match(await page.getAttribute('#f-q', 'aria-describedby'), /filter-error/);
  assert.match(await page.textContent('#filter-error'), /at most 200 characters/);
  await axe(page, 'search too long 390px');
  await page.setViewportSize({ width: 1280, height: 900 });

  step('phone width and languages');
  await page.setViewportSize({ width: 390, height: 844 });
  for (const lang of ['en', 'fr', 'es']) {
    await page.goto(base + '/staff?lang=' + lang);
    assert.equal(await page.getAttribute('html', 'lang'), lang);
    await axe(page, `dashboard ${lang} 390px`);
    if (env.SCREENSHOT_DIR) await page.screenshot({ path: `${env.SCREENSHOT_DIR}/staff-${lang}-390.png`, fullPage: true });
  }
  assert.match(await page.textContent('h1'), /Panel del personal/);
  await page.setViewportSize({ width: 1280, height: 900 });
  await axe(page, 'dashboard es desktop');
  await page.goto(base + '/staff?lang=fr');
  await axe(page, 'dashboard fr desktop');

  step('sign out');
  await Promise.all([page.waitForNavigation(), page.click('form[action="/staff/logout"] button')]);
  assert.ok(await page.isVisible('#email'), 'back to the sign-in form');

  assert.deepEqual(errors, [], 'console errors');
  console.log(JSON.stringify({ ok: true }));
} catch (e) {
  console.error(e && e.stack ? e.stack : String(e));
  if (errors.length) console.error('console errors:', errors);
  process.exitCode = 1;
} finally {
  await ctx.close();
}
