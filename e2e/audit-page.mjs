// Drives the audit page in Chromium with the keyboard only: filter by
// person and action, page to older entries, download the CSV of the
// filter; scans every state with axe-core at desktop and phone width, in
// en, fr and es. Run by audit/e2e_test.go, which seeds the entries and
// passes in the environment:
//   BASE_URL, STAFF_TOKEN, CHROMIUM, USER_DATA_DIR, NODE_MODULES_DIR,
//   ANA (the actor of "Ana López", who has ANA_ENTRIES entries),
//   TOTAL (the number of entries).
import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';
import assert from 'node:assert/strict';

const env = process.env;
const require = createRequire((env.NODE_MODULES_DIR || process.cwd()) + '/');
const { chromium } = require('playwright-core');
const axeSource = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');

const base = env.BASE_URL;
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
  assert.ok(overflow <= 0, `${label}: the page overflows horizontally by ${overflow}px`);
}

// tabTo presses Tab until the element matching sel has the focus.
async function tabTo(page, sel) {
  for (let i = 0; i < 40; i++) {
    if (await page.evaluate((s) => document.activeElement?.matches(s), sel)) return;
    await page.keyboard.press('Tab');
  }
  throw new Error(`Tab never reached ${sel}; focus on ${await page.evaluate(() => document.activeElement.outerHTML.slice(0, 200))}`);
}

// choose moves a focused closed select to the option whose value is
// value, with the arrow keys.
async function choose(page, value) {
  for (let i = 0; i < 40; i++) {
    if (await page.evaluate(() => document.activeElement.value) === value) return;
    await page.keyboard.press('ArrowDown');
  }
  throw new Error(`no option ${value} by arrow keys`);
}

const rowIDs = (page) => page.$$eval('#audit-table tbody tr', (trs) => trs.map((tr) => tr.dataset.id));

const words = {
  en: { approve: 'Approved a statement', older: 'Older entries', csv: 'Download CSV' },
  fr: { approve: 'A approuvé une déclaration', older: 'Entrées plus anciennes', csv: 'Télécharger en CSV' },
  es: { approve: 'Aprobó una declaración', older: 'Entradas más antiguas', csv: 'Descargar CSV' },
};

const ctx = await chromium.launchPersistentContext(env.USER_DATA_DIR, {
  executablePath: env.CHROMIUM || '/usr/bin/chromium',
  headless: true,
  viewport: { width: 1280, height: 900 },
  locale: 'en-GB',
  extraHTTPHeaders: { Authorization: 'Bearer ' + env.STAFF_TOKEN },
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
const errors = [];
try {
  const page = ctx.pages()[0] || (await ctx.newPage());
  page.setDefaultTimeout(10000);
  page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
  page.on('pageerror', (e) => errors.push(String(e)));

  for (const lang of ['en', 'fr', 'es']) {
    for (const width of [1280, 390]) {
      const label = `${lang} ${width}px`;
      await page.setViewportSize({ width, height: 900 });
      step(`page ${label}`);
      await page.goto(`${base}/staff/audit?lang=${lang}`);
      assert.equal(await page.getAttribute('html', 'lang'), lang);
      let ids = await rowIDs(page);
      assert.equal(ids.length, Math.min(50, Number(env.TOTAL)), `${label}: a first page of entries`);
      assert.match(await page.textContent('#audit-table tbody'), new RegExp(words[lang].approve));
      const dt = await page.getAttribute('#audit-table tbody tr:first-child time', 'datetime');
      assert.ok(!Number.isNaN(Date.parse(dt)), `${label}: <time datetime=${dt}>`);
      await axe(page, label);

      step(`filter by keyboard ${label}`);
      await page.focus('a.skip');
      await tabTo(page, '#f-actor');
      await choose(page, env.ANA);
      await page.keyboard.press('Tab');
      assert.equal(await page.evaluate(() => document.activeElement.id), 'f-action');
      await choose(page, 'statement.');
      await tabTo(page, '#audit-filter button[type=submit]');
      await Promise.all([page.waitForNavigation(), page.keyboard.press('Enter')]);
      const u = new URL(page.url());
      assert.equal(u.searchParams.get('actor'), env.ANA);
      assert.equal(u.searchParams.get('action'), 'statement.');
      ids = await rowIDs(page);
      assert.equal(ids.length, Math.min(50, Number(env.ANA_STATEMENT_ENTRIES)), `${label}: Ana's statement decisions`);
      const actors = await page.$$eval('#audit-table tbody tr', (trs) => [...new Set(trs.map((tr) => tr.dataset.actor))]);
      assert.deepEqual(actors, [env.ANA]);
      const actions = await page.$$eval('#audit-table tbody tr', (trs) => trs.every((tr) => tr.dataset.action.startsWith('statement.')));
      assert.ok(actions, `${label}: only statement actions`);
      await axe(page, `${label} filtered`);

      step(`older entries ${label}`);
      await tabTo(page, 'a[rel=next]');
      assert.equal((await page.textContent('a[rel=next]')).trim(), words[lang].older);
      await Promise.all([page.waitForNavigation(), page.keyboard.press('Enter')]);
      const rest = await rowIDs(page);
      assert.equal(rest.length, Number(env.ANA_STATEMENT_ENTRIES) - 50, `${label}: the second page`);
      assert.ok(rest.every((id) => !ids.includes(id)), `${label}: no entry on both pages`);
      assert.ok(await page.isVisible('a[rel=prev]'));
      await axe(page, `${label} second page`);

      step(`CSV of the filter ${label}`);
      await tabTo(page, '#audit-csv');
      assert.equal((await page.textContent('#audit-csv')).trim(), words[lang].csv);
      assert.equal(await page.getAttribute('#audit-csv', 'download'), '', `${label}: the link downloads`);
      // The page's own request for the link, as following it sends
      // (in this headless setup Chromium cancels the download itself).
      const csv = await page.evaluate(async () => {
        const res = await fetch(document.getElementById('audit-csv').href);
        if (!res.ok || !res.headers.get('content-type').startsWith('text/csv')) throw new Error(`CSV link: ${res.status}`);
        return res.text();
      });
      const lines = csv.trimEnd().split('\r\n');
      assert.equal(lines[0], 'id,at,actor,actor_name,action,target,detail,remote,outcome');
      assert.equal(lines.length - 1, Number(env.ANA_STATEMENT_ENTRIES), `${label}: the CSV has every entry of the filter`);
      assert.ok(lines.slice(1).every((l) => l.split(',')[2] === env.ANA), `${label}: only Ana in the CSV`);
    }
  }

  step('a bad date in the URL');
  await page.goto(`${base}/staff/audit?lang=fr&since=hier`);
  assert.match(await page.textContent('#filter-error'), /n'est ni une date/);
  assert.equal(await page.getAttribute('#f-since', 'aria-invalid'), 'true');
  await axe(page, 'bad since');

  assert.deepEqual(errors, [], 'no errors in the console');
  step('done');
} finally {
  await ctx.close();
}
