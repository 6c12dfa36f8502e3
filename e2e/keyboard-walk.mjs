// A keyboard-only walk through the service in Chromium, in English, French
// and Spanish: an organisation uploads a statement on the upload page, staff
// sign in and approve it on the dashboard, a delegation plays the country's
// stream on the watch page and jumps with its chapter list. The page is
// driven with page.keyboard alone (Tab, Shift+Tab, Enter, Space, typing);
// the language is switched with each page's own language links, reached by
// Tab. At every focus stop the focused element must show a focus indicator
// (a non-none outline or box-shadow) and <html lang> must be the language.
// Run by cmd/presession/keyboard_test.go against the real binary.
//
//   node keyboard-walk.mjs '{"base": "http://127.0.0.1:P", "staffToken": "…", "chromium": "/usr/bin/chromium",
//     "nodeModules": "…/e2e", "profile": "/tmp/…", "repo": "…", "viewer": "http://…/watch/upr36/bg?key=…",
//     "country": {"en": "Bulgaria", …}, "deadline": {"en": "1 January 2030, 23:59 UTC", …},
//     "walks": [{"lang": "en", "upload": "http://…/upload?token=…", "clip": "/tmp/a.mp4", "spoken": "fr",
//                "spokenName": "Français", "title": "…", "speaker": "…"}, …]}'
//
// Prints one JSON line per step and, last, {"ok": true, …} or {"ok": false, "error": …}; exits 1 on failure.
import { createRequire } from 'node:module';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import assert from 'node:assert/strict';

const spec = JSON.parse(process.argv[2]);
const require = createRequire(join(spec.nodeModules, 'package.json'));
const { chromium } = require('playwright-core');
const axeSource = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');

// The catalogue, to expect the page's own words.
const catalogue = {};
for (const lang of ['en', 'fr', 'es']) {
  catalogue[lang] = {};
  const dir = join(spec.repo, 'i18n', 'messages', lang);
  for (const f of readdirSync(dir)) Object.assign(catalogue[lang], JSON.parse(readFileSync(join(dir, f), 'utf8')));
}
const t = (lang, key, ...args) => {
  const s = catalogue[lang][key];
  assert.ok(s !== undefined, `no message ${key} in ${lang}`);
  let i = 0;
  return s.replace(/%%|%[sdq]/g, (m) => (m === '%%' ? '%' : String(args[i++])));
};

const started = Date.now();
const timings = {};
const step = (name, extra) => console.log(JSON.stringify({ step: name, ms: Date.now() - started, ...extra }));
const stops = { checked: 0, uaControls: 0 };

// What has the focus, and is it visibly marked? When the focus is inside
// a part the browser draws (a player's own controls, in a closed
// user-agent shadow root), the page can only read the player's style: the
// player must then be marked as a whole (site.css does so).
async function focusInfo(page) {
  return page.evaluate(() => {
    const a = document.activeElement;
    const cs = getComputedStyle(a);
    const outline = cs.outlineStyle !== 'none' && parseFloat(cs.outlineWidth) > 0;
    const shadow = cs.boxShadow && cs.boxShadow !== 'none';
    return {
      tag: a.tagName.toLowerCase(), id: a.id, cls: typeof a.className === 'string' ? a.className : '',
      text: (a.textContent || a.value || '').trim().replace(/\s+/g, ' ').slice(0, 60),
      visible: outline || shadow, focusVisible: a.matches(':focus-visible'),
      uaControls: a.tagName === 'VIDEO' && !a.matches(':focus-visible'),
      lang: document.documentElement.lang,
    };
  });
}

async function checkFocus(page, lang, where) {
  const f = await focusInfo(page);
  assert.equal(f.lang, lang, `${where}: <html lang> is ${f.lang}`);
  if (f.tag === 'body') return f;
  if (f.uaControls) stops.uaControls++;
  stops.checked++;
  assert.ok(f.visible, `${where}: the focused ${f.tag}#${f.id}.${f.cls} "${f.text}" shows no outline or box-shadow`);
  return f;
}

// tabTo presses Tab (or Shift+Tab) until selector has the focus, checking
// the focus indicator at every stop.
async function tabTo(page, lang, selector, { back = false, max = 150 } = {}) {
  for (let i = 0; i < max; i++) {
    await page.keyboard.press(back ? 'Shift+Tab' : 'Tab');
    await checkFocus(page, lang, `Tab to ${selector}`);
    if (await page.evaluate((sel) => document.activeElement.matches(sel), selector)) return i + 1;
  }
  throw new Error(`${max} × ${back ? 'Shift+Tab' : 'Tab'} did not reach ${selector}`);
}

// tabRound tabs once round the whole page, to the skip link and on until
// the focus comes back to it, checking the focus indicator of every stop;
// it returns how many stops a round has.
async function tabRound(page, lang, where) {
  let round = -1;
  for (let i = 1; i <= 600; i++) {
    await page.keyboard.press('Tab');
    const f = await checkFocus(page, lang, `${where}, Tab round`);
    if (!f.cls.split(' ').includes('skip')) continue;
    if (round >= 0) return i - round;
    round = i;
  }
  throw new Error(`${where}: 600 × Tab never went round the page`);
}

// ensureLang switches the page to lang with its own language links.
async function ensureLang(page, lang) {
  if ((await page.evaluate(() => document.documentElement.lang)) === lang) return false;
  const before = new URL(page.url());
  await tabTo(page, await page.evaluate(() => document.documentElement.lang), `header .langs a[hreflang="${lang}"]`);
  assert.equal(await page.evaluate(() => document.activeElement.getAttribute('lang')), lang, 'the language link is marked with its language');
  await Promise.all([page.waitForNavigation(), page.keyboard.press('Enter')]);
  assert.equal(await page.evaluate(() => document.documentElement.lang), lang);
  const after = new URL(page.url());
  for (const k of ['token', 'key']) assert.equal(after.searchParams.get(k), before.searchParams.get(k), `the switch keeps ?${k}=`);
  assert.equal(await page.getAttribute(`header .langs a[hreflang="${lang}"]`, 'aria-current'), 'true');
  return true;
}

async function axe(page, label) {
  const found = [];
  for (const width of [1280, 390]) {
    await page.setViewportSize({ width, height: 900 });
    await page.evaluate(axeSource);
    const res = await page.evaluate(async () => {
      // eslint-disable-next-line no-undef
      const r = await axe.run(document, { resultTypes: ['violations'] });
      return r.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical')
        .map((v) => ({ id: v.id, impact: v.impact, nodes: v.nodes.slice(0, 3).map((n) => n.target.join(' ')) }));
    });
    found.push(...res.map((v) => ({ width, ...v })));
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
    assert.ok(overflow <= 0, `${label} at ${width}px overflows horizontally by ${overflow}px`);
  }
  await page.setViewportSize({ width: 1280, height: 900 });
  assert.deepEqual(found, [], `axe ${label}: ${JSON.stringify(found)}`);
}

async function api(path, token) {
  const res = await fetch(spec.base + path, { headers: { Authorization: 'Bearer ' + token } });
  const body = await res.json();
  assert.ok(res.ok, `GET ${path}: ${res.status} ${JSON.stringify(body)}`);
  return body;
}

async function until(what, fn, ms = 60000) {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`gave up waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

// --- the upload page ---------------------------------------------------------

// File choosers are caught by a listener set up with the page, so that
// Playwright intercepts them before the walk first presses Space on the
// file field (a listener added just then can lose the race).
const choosers = [];
const chooserWaiters = [];
function onChooser(fc) {
  const w = chooserWaiters.shift();
  if (w) w(fc);
  else choosers.push(fc);
}
function nextChooser(ms) {
  if (choosers.length) return Promise.resolve(choosers.shift());
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('no file chooser opened')), ms);
    chooserWaiters.push((fc) => { clearTimeout(timer); resolve(fc); });
  });
}

async function upload(page, w) {
  const { lang } = w;
  await page.goto(w.upload);
  await ensureLang(page, lang);
  const facts = await page.textContent('dl.facts');
  assert.ok(facts.includes(spec.country[lang]), `upload page ${lang}: country name ${spec.country[lang]} in ${facts}`);
  assert.ok(facts.includes(spec.deadline[lang]), `upload page ${lang}: deadline ${spec.deadline[lang]} in ${facts}`);

  // Sent empty: the errors are announced and tied to their fields, and
  // the focus goes to the first field at fault.
  await tabTo(page, lang, '#submit');
  await page.keyboard.press('Enter');
  await checkFocus(page, lang, 'after the refused submit');
  assert.equal(await page.evaluate(() => document.activeElement.id), 'title');
  assert.equal(await page.getAttribute('#error', 'role'), 'alert');
  assert.equal((await page.textContent('#error')).trim(), t(lang, 'upload.err.form'));
  for (const [field, key] of [['title', 'upload.err.title_required'], ['file', 'upload.err.file_required']]) {
    assert.equal(await page.getAttribute('#' + field, 'aria-invalid'), 'true', `${field} is marked invalid`);
    assert.ok((await page.getAttribute('#' + field, 'aria-describedby')).split(' ').includes(field + '-error'), `${field} is described by its error`);
    assert.equal((await page.textContent(`#${field}-error`)).trim(), t(lang, key));
    assert.ok(await page.isVisible(`#${field}-error`));
  }
  await axe(page, `upload page ${lang} with errors`);

  // Fill in by keyboard: title, speaker, the spoken language (type-ahead
  // on the select), then the file through the keyboard-opened chooser.
  await page.keyboard.type(w.title);
  await page.keyboard.press('Tab');
  await checkFocus(page, lang, 'speaker');
  assert.equal(await page.evaluate(() => document.activeElement.id), 'speaker');
  await page.keyboard.type(w.speaker);
  await page.keyboard.press('Tab');
  await checkFocus(page, lang, 'language');
  assert.equal(await page.evaluate(() => document.activeElement.id), 'language');
  await page.keyboard.type(w.spokenName.slice(0, 2));
  assert.equal(await page.inputValue('#language'), w.spoken, 'the spoken language chosen by typing its name');
  await page.keyboard.press('Tab');
  await checkFocus(page, lang, 'file');
  assert.equal(await page.evaluate(() => document.activeElement.id), 'file');
  const opened = nextChooser(5000);
  await page.keyboard.press('Space');
  const chooser = await opened;
  await chooser.setFiles(w.clip);
  assert.equal(await page.getAttribute('#file', 'aria-invalid'), null, 'choosing a file clears its error');
  assert.equal(await page.getAttribute('#title', 'aria-invalid'), null, 'typing a title clears its error');
  // Past the optional captions file and its language, left as they are.
  await page.keyboard.press('Tab');
  await checkFocus(page, lang, 'captions file');
  assert.equal(await page.evaluate(() => document.activeElement.id), 'captions');
  await page.keyboard.press('Tab');
  await checkFocus(page, lang, 'captions language');
  assert.equal(await page.evaluate(() => document.activeElement.id), 'captions-lang');
  await page.keyboard.press('Tab');
  assert.equal(await page.evaluate(() => document.activeElement.id), 'submit');
  await page.keyboard.press('Shift+Tab');
  await checkFocus(page, lang, 'Shift+Tab back to the captions language');
  assert.equal(await page.evaluate(() => document.activeElement.id), 'captions-lang');
  await page.keyboard.press('Tab');
  await checkFocus(page, lang, 'submit');

  // Watch the progress: the <progress> value and the live region's text.
  await page.evaluate(() => {
    window.__progress = [];
    window.__announced = [];
    const p = document.getElementById('progress');
    const a = document.getElementById('announce');
    new MutationObserver(() => window.__progress.push(p.value)).observe(p, { attributes: true, attributeFilter: ['value'] });
    new MutationObserver(() => window.__announced.push(a.textContent)).observe(a, { childList: true, characterData: true, subtree: true });
  });
  await page.keyboard.press('Enter');
  await page.waitForFunction(() => document.getElementById('status').classList.contains('ok'), null, { timeout: 60000 });
  const prog = await page.evaluate(() => {
    const p = document.getElementById('progress'), a = document.getElementById('announce');
    return { tag: p.tagName, value: p.value, max: p.max, values: window.__progress, announced: window.__announced,
      live: a.getAttribute('aria-live'), label: p.getAttribute('aria-labelledby') };
  });
  assert.equal(prog.tag, 'PROGRESS');
  assert.equal(prog.value, prog.max, 'the bar is full');
  assert.ok(prog.values.length >= 1 && prog.values.at(-1) === prog.max, `the bar moved: ${JSON.stringify(prog.values)}`);
  assert.equal(prog.live, 'polite');
  assert.ok(prog.label, 'the bar has an accessible name');
  const said = [...new Set(prog.announced.filter((s) => s))];
  assert.ok(said.length >= 2, `the live region spoke more than once: ${JSON.stringify(prog.announced)}`);
  assert.match(said.at(-1), /100/, `the last announcement is 100 %: ${said.at(-1)}`);
  const status = await checkFocus(page, lang, 'upload done');
  assert.equal(status.id, 'status', 'the focus goes to the outcome');
  assert.equal((await page.textContent('#status')).trim(), t(lang, 'upload.done'));

  // The invitation's statements, in the page's language, times with their zone.
  await page.waitForFunction(() => document.querySelectorAll('#statements tbody tr').length > 0, null, { timeout: 10000 });
  const row = await page.$$eval('#statements tbody tr td', (tds) => tds.map((td) => td.textContent));
  assert.equal(row[0], w.title);
  assert.ok(['uploaded', 'processing', 'ready'].some((s) => row[1].includes(t(lang, 'status.' + s))), `status in ${lang}: ${row[1]}`);
  assert.match(row[2], /UTC/, `the time states its zone: ${row[2]}`);
  await axe(page, `upload page ${lang} after the upload`);
  step('upload page Tab round', { lang, stops: await tabRound(page, lang, 'upload page') });

  const token = new URL(w.upload).searchParams.get('token');
  const mine = await api('/api/v1/me/statements', token);
  const st = mine.statements.find((s) => s.title === w.title);
  assert.ok(st, 'the statement is listed for the invitation');
  assert.equal(st.language, w.spoken);
  return st.id;
}

// record: on the upload page, by keyboard, the record mode: switch to it,
// fill in the title, paste the teleprompter's text and set its speed,
// record a short take, stop, review, send; the statement the in-process
// worker makes of it becomes ready and lasts what was recorded, ±1 s.
async function record(page, w) {
  const { lang } = w;
  await tabTo(page, lang, '#mode-file');
  await page.keyboard.press('ArrowRight');
  await checkFocus(page, lang, 'record mode chosen');
  assert.equal(await page.evaluate(() => document.activeElement.id), 'mode-record');
  assert.ok(await page.isVisible('#record-panel'), 'the record panel shows');
  assert.ok(!(await page.isVisible('#file')), 'the file field is gone in record mode');
  await page.waitForFunction(() => document.getElementById('preview').videoWidth > 0, null, { timeout: 15000 });
  await tabTo(page, lang, '#title');
  await page.keyboard.type('Recorded with the camera');
  await tabTo(page, lang, '#camera');
  await tabTo(page, lang, '#microphone');
  await tabTo(page, lang, '#prompter-text');
  await page.keyboard.insertText('We thank the Council.\nOur statement concerns the right to education.');
  await page.keyboard.press('Tab');
  await checkFocus(page, lang, 'teleprompter speed');
  assert.equal(await page.evaluate(() => document.activeElement.id), 'prompter-speed');
  await page.keyboard.press('ArrowRight');
  await page.keyboard.press('Tab');
  await checkFocus(page, lang, 'teleprompter');
  assert.equal(await page.evaluate(() => document.activeElement.id), 'prompter');
  await tabTo(page, lang, '#rec-start');
  await page.keyboard.press('Enter');
  const t0 = Date.now();
  await checkFocus(page, lang, 'recording');
  assert.equal(await page.evaluate(() => document.activeElement.id), 'rec-stop', 'the focus goes to Stop');
  await new Promise((r) => setTimeout(r, 5000));
  await page.keyboard.press('Enter');
  const seconds = (Date.now() - t0) / 1000;
  await page.waitForFunction(() => !document.getElementById('rec-send').hidden, null, { timeout: 10000 });
  await checkFocus(page, lang, 'take recorded');
  assert.equal(await page.evaluate(() => document.activeElement.id), 'rec-send', 'the focus goes to Send');
  assert.ok(await page.isVisible('#take'), 'the take can be watched back');
  await axe(page, `upload page ${lang}, a take to review`);
  await page.keyboard.press('Enter');
  await page.waitForFunction(() => document.getElementById('status').classList.contains('ok'), null, { timeout: 30000 });
  const status = await checkFocus(page, lang, 'recording sent');
  assert.equal(status.id, 'status');
  assert.equal((await page.textContent('#status')).trim(), t(lang, 'upload.rec.done'));
  step('upload page Tab round, record mode', { lang, stops: await tabRound(page, lang, 'upload page, record mode') });

  const token = new URL(w.upload).searchParams.get('token');
  const st = (await api('/api/v1/me/statements', token)).statements.find((s) => s.title === 'Recorded with the camera');
  assert.ok(st, 'the recording is listed for the invitation');
  const ready = await until(`recorded statement ${st.id} ready`, async () => {
    const s = await api('/api/v1/statements/' + st.id, spec.staffToken);
    assert.notEqual(s.status, 'failed', `recorded statement ${st.id} failed: ${s.reason}`);
    return s.status === 'ready' && s;
  });
  const duration = ready.media && ready.media.duration;
  assert.ok(Math.abs(duration - seconds) <= 1, `the recorded statement lasts ${duration} s; ${seconds} s were recorded`);
  step('recorded', { lang, id: st.id, seconds, duration, format: ready.media.source_format });
  return { id: st.id, seconds, duration };
}

// --- the staff dashboard -------------------------------------------------------

async function approve(page, w, id) {
  const { lang } = w;
  await until(`statement ${id} ready`, async () => {
    const st = await api('/api/v1/statements/' + id, spec.staffToken);
    assert.notEqual(st.status, 'failed', `statement ${id} failed: ${st.reason}`);
    return st.status === 'ready';
  });
  await page.goto(spec.base + '/staff');
  await ensureLang(page, lang);
  if (await page.$('#token')) {
    await tabTo(page, lang, '#token-form summary'); // the staff token's form is collapsed
    await page.keyboard.press('Enter');
    await tabTo(page, lang, '#token');
    await page.keyboard.type(spec.staffToken);
    await Promise.all([page.waitForNavigation(), page.keyboard.press('Enter')]);
    assert.equal(await page.evaluate(() => document.documentElement.lang), lang);
  }
  const row = `#st-${id}`;
  assert.equal((await page.textContent(`${row} [data-role=status]`)).trim(), t(lang, 'status.ready'));
  const cells = await page.textContent(row);
  assert.ok(cells.includes(spec.country[lang]), `dashboard ${lang}: country name ${spec.country[lang]}`);
  assert.equal(await page.textContent(`${row} dd > span[lang="${w.spoken}"]`), w.spokenName, `dashboard ${lang}: the spoken language by its name`);
  assert.match(cells, /UTC/);
  const n = await tabTo(page, lang, `${row} button[data-action=approve]`);
  await Promise.all([page.waitForNavigation(), page.keyboard.press('Enter')]);
  await page.waitForFunction((text) => document.getElementById('live').textContent === text,
    t(lang, 'staff.js.approved', w.title), { timeout: 10000 });
  const f = await checkFocus(page, lang, 'after approving');
  assert.equal(f.id, 'live', 'the outcome has the focus after the reload');
  assert.equal((await page.textContent(`${row} [data-role=status]`)).trim(), t(lang, 'status.approved'));
  const st = await api('/api/v1/statements/' + id, spec.staffToken);
  assert.equal(st.status, 'approved');
  step('dashboard Tab round', { lang, stops: await tabRound(page, lang, 'dashboard') });
  return n;
}

// --- the watch page --------------------------------------------------------------

async function watch(page, lang, titles) {
  await page.goto(spec.viewer);
  await ensureLang(page, lang);
  assert.equal((await page.textContent('h1')).trim(), t(lang, 'watch.title', spec.country[lang]));
  const info = await page.evaluate(() => ({
    tracks: [...document.querySelectorAll('#player track')].map((t) => [t.srclang, t.label]),
    textTracks: [...document.getElementById('player').textTracks].map((t) => t.label),
    chapters: [...document.querySelectorAll('ol.chapters > li > button.chapter')].map((b) => ({ title: b.dataset.title, start: +b.dataset.start })),
    hls: document.getElementById('player').dataset.hls,
  }));
  assert.deepEqual(info.tracks, [['en', 'English'], ['fr', 'Français'], ['es', 'Español']], 'caption tracks labelled in their own language');
  assert.deepEqual(info.textTracks, ['English', 'Français', 'Español']);
  assert.deepEqual(info.chapters.map((c) => c.title), titles, 'one chapter per approved statement, in order');
  const master = await (await fetch(new URL(info.hls, spec.base))).text();
  for (const [code, name] of info.tracks) assert.ok(master.includes(`LANGUAGE="${code}",NAME="${name}"`), `HLS NAME of ${code}: ${master}`);

  // Play from the keyboard: Tab to the player, Space.
  await tabTo(page, lang, '#player');
  await page.keyboard.press('Space');
  const t0 = await page.evaluate(() => document.getElementById('player').currentTime);
  await page.waitForFunction((t) => { const v = document.getElementById('player'); return !v.paused && v.currentTime > t + 0.5; }, t0, { timeout: 20000 });

  // Jump to the last statement with its chapter button.
  const last = info.chapters.length - 1;
  await tabTo(page, lang, `button.chapter[data-index="${last}"]`);
  await page.keyboard.press('Enter');
  const start = info.chapters[last].start;
  await page.waitForFunction((s) => { const v = document.getElementById('player'); return !v.paused && v.currentTime >= s + 0.3; }, start, { timeout: 20000 });
  assert.equal(await page.getAttribute(`button.chapter[data-index="${last}"]`, 'aria-current'), 'true');
  assert.equal((await page.textContent('#now')).trim(), t(lang, 'watch.now_playing', titles[last]));
  await checkFocus(page, lang, 'after the jump');
  const at = await page.evaluate(() => document.getElementById('player').currentTime);
  step('watch page Tab round', { lang, stops: await tabRound(page, lang, 'watch page') });
  return at;
}

// --- the walk ----------------------------------------------------------------------

const ctx = await chromium.launchPersistentContext(spec.profile, {
  executablePath: spec.chromium || '/usr/bin/chromium',
  headless: true,
  viewport: { width: 1280, height: 900 },
  locale: 'en-GB',
  bypassCSP: true, // lets the walk inject axe; the pages' own CSP stays strict
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync',
    '--autoplay-policy=no-user-gesture-required',
    '--use-fake-device-for-media-stream', '--use-fake-ui-for-media-stream'], // the upload page's record mode
});
const errors = [];
const out = { ok: false, statements: {} };
try {
  const page = ctx.pages()[0] || (await ctx.newPage());
  page.setDefaultTimeout(15000);
  page.on('pageerror', (e) => errors.push(String(e)));
  page.on('filechooser', onChooser);
  page.on('console', (m) => { if (m.type() === 'error' && !/Failed to load resource/.test(m.text())) errors.push(m.text()); });

  let t = Date.now();
  for (const w of spec.walks) {
    out.statements[w.lang] = await upload(page, w);
    step('uploaded', { lang: w.lang, id: out.statements[w.lang] });
    if (w === spec.walks[0]) out.recorded = await record(page, w);
  }
  timings.upload = Date.now() - t;
  t = Date.now();
  for (const w of spec.walks) {
    const tabs = await approve(page, w, out.statements[w.lang]);
    step('approved', { lang: w.lang, tabs });
  }
  timings.approve = Date.now() - t;
  t = Date.now();
  const titles = spec.walks.map((w) => w.title);
  const key = new URL(spec.viewer).searchParams.get('key');
  const path = new URL(spec.viewer).pathname.split('/');
  await until('the playlist with every statement', async () => {
    const pl = await (await fetch(`${spec.base}/playlists/${path[2]}/${path[3].toUpperCase()}.json?key=${encodeURIComponent(key)}`)).json();
    return pl.statements && pl.statements.length === titles.length;
  });
  for (const w of spec.walks) {
    const at = await watch(page, w.lang, titles);
    step('played', { lang: w.lang, currentTime: at });
  }
  timings.watch = Date.now() - t;
  assert.deepEqual(errors, [], 'errors in the page');
  out.ok = true;
} catch (e) {
  out.error = e && e.stack ? e.stack : String(e);
  if (errors.length) out.pageErrors = errors;
} finally {
  await ctx.close();
}
out.stops = stops;
out.timings = timings;
console.log(JSON.stringify(out));
if (!out.ok) process.exitCode = 1;
