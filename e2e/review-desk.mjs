// The review desk in Chromium, keyboard only: two reviewers, each in their
// own browser context, go through the queue of six statements (queue
// order: spec.ids) in en, fr and es. Ana plays, pauses, changes speed,
// jumps ±5 s and to the quality findings, corrects a caption cue and
// saves it, approves, then rejects one with a reason; Ben approves one
// and skips two. The two never see the same statement; when Ana closes
// her page, Ben is given the statement she let go. Every state is scanned
// with axe-core at 1280 and 390 px. Run by desk/e2e_test.go, which checks
// the catalog afterwards.
//
//   node review-desk.mjs '{"base": "http://127.0.0.1:P", "chromium": "/usr/bin/chromium", "nodeModules": "…/e2e",
//     "ids": [six statement ids], "wrongCue": "…", "password": "…", "reviewers": [{"email","name"}, {"email","name"}]}'
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
const ids = spec.ids;
const started = Date.now();
const step = (name, extra) => console.log(JSON.stringify({ step: name, ms: Date.now() - started, ...extra }));
const pageErrors = [];
let scans = 0;

async function axe(page, label) {
  scans += await scan(page, label, axeSource);
}

function watch(page, who) {
  page.setDefaultTimeout(10000);
  page.on('console', (m) => { if (m.type() === 'error' && !/Failed to load resource/i.test(m.text())) pageErrors.push(who + ': ' + m.text()); });
  page.on('pageerror', (e) => pageErrors.push(who + ': ' + String(e)));
}

// onDesk is the id of the statement a reviewer's page shows.
const onDesk = (page) => page.getAttribute('#statement', 'data-id');
const video = (page, fn) => page.evaluate(fn);
const near = (a, b, tol, what) => assert.ok(Math.abs(a - b) <= tol, `${what}: ${a}, want ${b} ± ${tol}`);

// press presses key and waits for the next statement's page.
async function pressToNext(page, key) {
  await Promise.all([page.waitForNavigation({ waitUntil: 'load' }), page.keyboard.press(key)]);
  await page.waitForSelector('#statement, #empty');
}

const browser = await chromium.launch({
  executablePath: spec.chromium || '/usr/bin/chromium',
  headless: true,
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync',
    '--autoplay-policy=no-user-gesture-required'],
});
const result = { ok: false };
try {
  const pages = [];
  for (const [i, r] of spec.reviewers.entries()) {
    const lang = i === 0 ? 'en' : 'fr';
    const ctx = await browser.newContext({ locale: lang, viewport: { width: 1280, height: 900 } });
    const page = await ctx.newPage();
    watch(page, r.name);
    step(`${r.name} signs in`);
    await page.goto(`${base}/staff?lang=${lang}`);
    await page.focus('#email');
    await page.keyboard.type(r.email);
    await page.keyboard.press('Tab');
    await page.keyboard.type(spec.password);
    await Promise.all([page.waitForNavigation(), page.keyboard.press('Enter')]);
    await page.waitForSelector('.staff-me');
    pages.push(page);
  }
  const [ana, ben] = pages;

  step('Ana opens the review queue from the dashboard (en) and gets the longest waiting');
  await tabTo(ana, 'a[href="/staff/review"]');
  await Promise.all([ana.waitForNavigation(), ana.keyboard.press('Enter')]);
  assert.equal(await onDesk(ana), ids[0]);
  assert.match(await ana.textContent('#keys-h'), /Keyboard shortcuts/);
  await ana.waitForFunction(() => document.querySelectorAll('#cues li[data-index]').length === 3);
  await ana.waitForFunction(() => document.querySelectorAll('#storyboard .tile').length === 6);
  await axe(ana, 'review desk (en)');

  step('Ben opens it in French and gets another statement');
  await ben.goto(`${base}/staff/review?lang=fr`);
  assert.equal(await onDesk(ben), ids[1]);
  assert.match(await ben.textContent('#keys-h'), /Raccourcis clavier/);
  await axe(ben, 'review desk (fr)');

  step('Ana plays, pauses, changes speed, jumps to findings and ±5 s with keys');
  await ana.keyboard.press('k');
  await ana.waitForFunction(() => { const v = document.getElementById('player'); return !v.paused && v.currentTime > 0.3; });
  await ana.keyboard.press('k');
  await ana.waitForFunction(() => document.getElementById('player').paused);
  for (const [key, rate] of [['3', 2], ['2', 1.5], ['1', 1]]) {
    await ana.keyboard.press(key);
    assert.equal(await video(ana, () => document.getElementById('player').playbackRate), rate, `speed after ${key}`);
  }
  await ana.keyboard.press('3');
  assert.match(await ana.textContent('#speed'), /2×/);
  await ana.keyboard.press('f');
  near(await video(ana, () => document.getElementById('player').currentTime), 2, 0.3, 'first finding');
  await liveText(ana, /0:02/);
  await ana.keyboard.press('f');
  near(await video(ana, () => document.getElementById('player').currentTime), 4.5, 0.3, 'second finding');
  await ana.keyboard.press('Shift+F');
  near(await video(ana, () => document.getElementById('player').currentTime), 2, 0.3, 'previous finding');
  await ana.keyboard.press('l');
  near(await video(ana, () => document.getElementById('player').currentTime), 7, 0.3, '+5 s');
  await ana.keyboard.press('j');
  near(await video(ana, () => document.getElementById('player').currentTime), 2, 0.3, '−5 s');
  await ana.keyboard.press('ArrowRight');
  near(await video(ana, () => document.getElementById('player').currentTime), 7, 0.3, '→');
  await ana.keyboard.press('ArrowLeft');
  near(await video(ana, () => document.getElementById('player').currentTime), 2, 0.3, '←');
  // The second finding (4.5 s) is inside the second cue (3–6 s), the misspelt one.
  await ana.keyboard.press('f');
  await ana.waitForFunction(() => { const li = document.querySelector('#cues li.current'); return li && li.dataset.index === '1'; });
  step('Ana corrects the caption on screen and saves it');
  await ana.keyboard.press('c');
  assert.equal(await ana.evaluate(() => document.activeElement.id), 'cue-1-text');
  assert.equal(await ana.inputValue('#cue-1-text'), spec.wrongCue);
  await ana.keyboard.press('Control+A');
  await ana.keyboard.type('The second line, corrected');
  await ana.keyboard.press('Escape'); // leaves the field: keys work again
  assert.equal(await ana.evaluate(() => document.activeElement.id), 'player');
  await tabTo(ana, '#cues-save');
  await ana.keyboard.press('Enter');
  await liveText(ana, /saved/);
  const saved = await ana.evaluate(async (id) => {
    const r = await fetch(`/api/v1/statements/${id}`, { credentials: 'same-origin' });
    return r.json();
  }, ids[0]);
  const en = saved.captions.find((c) => c.language === 'en');
  assert.equal(en.placeholder, false);
  assert.equal(en.history.length, 1);
  assert.equal(en.history[0].source, 'editor');

  step('Ana approves with a and is given the next free statement');
  await pressToNext(ana, 'a'); // from the Save button: the keys work wherever no field has the focus
  assert.equal(await onDesk(ana), ids[2], 'Ana after approving');
  await liveText(ana, /Approved: Statement 1/);

  step('Ben approves with a');
  await pressToNext(ben, 'a');
  assert.equal(await onDesk(ben), ids[3], 'Ben after approving (Ana holds the third)');
  assert.notEqual(await onDesk(ben), await onDesk(ana));

  step('Ana switches to Spanish: a reload keeps her statement; she rejects it with a reason');
  await ana.goto(`${base}/staff/review?lang=es`);
  assert.equal(await onDesk(ana), ids[2]);
  assert.match(await ana.textContent('#keys-h'), /Atajos de teclado/);
  await axe(ana, 'review desk (es)');
  await ana.keyboard.press('r');
  assert.equal(await ana.evaluate(() => document.activeElement.id), 'reason');
  await ana.keyboard.press('Enter'); // empty: refused, said in Spanish
  await ana.waitForSelector('#reason-error:not([hidden])');
  assert.match(await ana.textContent('#reason-error'), /Escriba por qué/);
  await ana.keyboard.type('Fuera de tema');
  await Promise.all([ana.waitForNavigation(), ana.keyboard.press('Enter')]);
  await ana.waitForSelector('#statement');
  assert.equal(await onDesk(ana), ids[4], 'Ana after rejecting');
  await liveText(ana, /Rechazada: Statement 3 \(Fuera de tema\)/);

  step('Ben skips with n and is given one no one else holds');
  await pressToNext(ben, 'n');
  assert.equal(await onDesk(ben), ids[5], 'Ben after skipping (Ana holds the fifth)');
  await liveText(ben, /Passée : Statement 4/);

  step('Ana closes her page; Ben skips again and is given the statement she let go');
  await ana.close({ runBeforeUnload: true });
  await new Promise((r) => setTimeout(r, 500));
  await pressToNext(ben, 'n');
  assert.equal(await onDesk(ben), ids[4], 'Ben after Ana left');
  await axe(ben, 'review desk (fr), after a skip');

  assert.deepEqual(pageErrors, [], 'page errors');
  Object.assign(result, { ok: true, scans, ms: Date.now() - started });
} catch (err) {
  result.error = String(err && err.stack || err);
} finally {
  await browser.close();
}
console.log(JSON.stringify(result));
process.exit(result.ok ? 0 : 1);
