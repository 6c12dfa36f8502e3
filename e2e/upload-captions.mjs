// Drives the CSO upload page in Chromium, by keyboard, sending a video
// with the organisation's captions file: a first file the server refuses
// (its reason shown next to the field, in the page's language, while the
// video's upload goes on to the end), then a corrected one sent with the
// field's own button. Every state is scanned with axe-core at 1280 and
// 390 px. Run by cmd/presession's TestUploadCaptionsInChromium, which
// then checks what the staff API says of the statement.
//
//   node upload-captions.mjs '{"url": "http://.../upload?token=T&lang=fr", "clip": "/tmp/a.mp4",
//                              "bad": "/tmp/bad.srt", "good": "/tmp/good.srt", "lang": "fr",
//                              "chromium": "/usr/bin/chromium", "nodeModules": "/…/e2e"}'
//
// Prints one JSON object: {"ok": true, "events": [...]} or {"ok": false, "error": "...", "events": [...]}.
import { createRequire } from 'node:module';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileChoosers } from './checks.mjs';

const opts = JSON.parse(process.argv[2]);
const require = createRequire(opts.nodeModules + '/');
const { chromium } = require('playwright-core');
const axeSource = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');
const events = [];
const log = (e) => events.push(e);
const profile = mkdtempSync(join(tmpdir(), 'upload-captions-'));
const ctx = await chromium.launchPersistentContext(profile, {
  executablePath: opts.chromium || '/usr/bin/chromium',
  headless: true,
  viewport: { width: 1280, height: 900 },
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});

// axe scans the page at 1280 and 390 px: serious and critical findings
// and horizontal overflow are errors.
async function axe(page, label) {
  for (const width of [1280, 390]) {
    await page.setViewportSize({ width, height: 900 });
    await page.evaluate(axeSource);
    const found = await page.evaluate(async () => {
      // eslint-disable-next-line no-undef
      const r = await axe.run(document, { resultTypes: ['violations'] });
      if (r.passes.length === 0) return [{ id: 'axe-did-not-run', impact: 'critical' }];
      return r.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical')
        .map((v) => v.id + ': ' + v.nodes.slice(0, 3).map((n) => n.target.join(' ')).join(', '));
    });
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
    if (found.length || overflow > 0) throw new Error(`axe, ${label} at ${width} px: ${JSON.stringify(found)}, overflow ${overflow}px`);
  }
  await page.setViewportSize({ width: 1280, height: 900 });
  log({ event: 'axe', label });
}

const focused = (page) => page.evaluate(() => document.activeElement.id);
async function tabTo(page, id) {
  await page.keyboard.press('Tab');
  const f = await focused(page);
  if (f !== id) throw new Error(`Tab went to #${f}, want #${id}`);
}
// chooseByKeyboard opens the focused file input's chooser with Space.
let nextChooser;
async function chooseByKeyboard(page, file) {
  const opened = nextChooser();
  await page.keyboard.press('Space');
  await (await opened).setFiles(file);
}

let result;
try {
  const page = ctx.pages()[0] || await ctx.newPage();
  nextChooser = fileChoosers(page);
  page.setDefaultTimeout(30000);
  page.on('pageerror', (e) => log({ event: 'pageerror', message: String(e) }));
  await page.goto(opts.url, { waitUntil: 'load' });
  await page.waitForFunction(() => document.getElementById('statements-msg').textContent !== '');
  await axe(page, 'the form');

  // By keyboard: title, speaker, spoken language, video, captions file
  // (the refused one), its language (the page's, already chosen), send.
  await page.focus('#title');
  await page.keyboard.type('Le droit à l’éducation');
  await tabTo(page, 'speaker');
  await page.keyboard.type('Élise Martin');
  await tabTo(page, 'language');
  await tabTo(page, 'file');
  await chooseByKeyboard(page, opts.clip);
  await tabTo(page, 'captions');
  await chooseByKeyboard(page, opts.bad);
  await tabTo(page, 'captions-lang');
  const chosenLang = await page.inputValue('#captions-lang');
  await tabTo(page, 'submit');
  await page.keyboard.press('Enter');

  // The refusal shows next to the field; the video goes on to the end.
  await page.waitForFunction(() => {
    const e = document.getElementById('captions-error');
    return e && !e.hidden && e.textContent.trim() !== '';
  });
  await page.waitForFunction(() => {
    const s = document.getElementById('status');
    return s && !s.hidden && s.classList.contains('ok');
  }, null, { timeout: 90000 });
  log({ event: 'refused', lang: chosenLang, message: await page.textContent('#captions-error'),
    invalid: await page.getAttribute('#captions', 'aria-invalid'), status: await page.textContent('#status'),
    progress: await page.evaluate(() => { const p = document.getElementById('progress'); return (100 * p.value) / p.max; }),
    sendVisible: await page.isVisible('#captions-send') });
  await axe(page, 'captions refused, video sent');

  // The corrected file, sent with the field's button.
  await page.focus('#captions');
  await chooseByKeyboard(page, opts.good);
  const cleared = await page.getAttribute('#captions', 'aria-invalid');
  await tabTo(page, 'captions-lang');
  await page.keyboard.type(opts.langName.slice(0, 2)); // type-ahead on the select
  const lang = await page.inputValue('#captions-lang');
  await tabTo(page, 'captions-send');
  await page.keyboard.press('Enter');
  await page.waitForFunction(() => document.getElementById('captions-status').textContent.trim() !== '' &&
    !/…$/.test(document.getElementById('captions-status').textContent.trim()));
  log({ event: 'sent', lang, cleared, status: await page.textContent('#captions-status'),
    error: await page.evaluate(() => { const e = document.getElementById('captions-error'); return e.hidden ? '' : e.textContent; }) });
  await axe(page, 'captions sent');
  result = { ok: true, events };
} catch (e) {
  result = { ok: false, error: String(e && e.stack ? e.stack : e), events };
} finally {
  await ctx.close();
  rmSync(profile, { recursive: true, force: true });
}
process.stdout.write(JSON.stringify(result) + '\n');
