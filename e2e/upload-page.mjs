// Drives the CSO upload page in Chromium: fills the form by keyboard at
// phone width, chooses a file, reloads the page in the middle of the
// upload, chooses the same file again and watches the upload resume and
// reach 100 %. With "again", it then sends the file once more, which the
// invitation's limit refuses, and reads the refusal the page shows.
// Driven by upload/page_test.go.
//
//   node upload-page.mjs '{"url": "http://.../upload?token=T", "file": "/tmp/x.mp4",
//                          "reloadAt": 30, "again": true, "chromium": "/usr/bin/chromium"}'
//
// Prints one JSON object: {"ok": true, "events": [...], "statements": [...]}
// or {"ok": false, "error": "...", "events": [...]}.
import { chromium } from 'playwright-core';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const opts = JSON.parse(process.argv[2]);
const events = [];
const log = (e) => events.push(e);
const profile = mkdtempSync(join(tmpdir(), 'upload-page-'));
const ctx = await chromium.launchPersistentContext(profile, {
  executablePath: opts.chromium || '/usr/bin/chromium',
  headless: true,
  viewport: { width: 390, height: 844 },
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});

const percent = (page) => page.evaluate(() => {
  const p = document.getElementById('progress');
  return p ? (100 * p.value) / p.max : 0;
});

let result;
try {
  const page = ctx.pages()[0] || await ctx.newPage();
  page.on('pageerror', (e) => log({ event: 'pageerror', message: String(e) }));
  await page.goto(opts.url, { waitUntil: 'load' });
  log({ event: 'loaded', pauseVisible: await page.isVisible('#pause'), progressVisible: await page.isVisible('#progress') });

  // Keyboard only: title, speaker, language, then the file.
  await page.focus('#title');
  await page.keyboard.type('Statement on the right to education');
  await page.keyboard.press('Tab');
  await page.keyboard.type('María Pérez, director');
  await page.keyboard.press('Tab');
  const order = await page.evaluate(() => [document.activeElement.id, document.getElementById('speaker').value]);
  log({ event: 'tabbed', focused: order[0], speaker: order[1] });
  await page.selectOption('#language', 'es');

  // A wrong file first: the page refuses it before any upload.
  await page.setInputFiles('#file', { name: 'notes.txt', mimeType: 'text/plain', buffer: Buffer.from('hello') });
  await page.focus('#submit');
  await page.keyboard.press('Enter');
  const typeError = await page.textContent('#file-error');
  log({ event: 'refused', message: typeError, focused: await page.evaluate(() => document.activeElement.id) });

  await page.setInputFiles('#file', opts.file);
  await page.focus('#submit');
  await page.keyboard.press('Enter');
  await page.waitForFunction((at) => {
    const p = document.getElementById('progress');
    return p && (100 * p.value) / p.max >= at;
  }, opts.reloadAt, { timeout: 60000, polling: 50 });
  log({ event: 'reloading', percent: await percent(page), text: await page.textContent('#progress-text') });

  await page.reload({ waitUntil: 'load' });
  const note = await page.textContent('#resume-note');
  const title = await page.inputValue('#title');
  log({ event: 'reloaded', note, title });

  await page.setInputFiles('#file', opts.file);
  await page.focus('#submit');
  await page.keyboard.press('Enter');
  // The first progress drawn after the reload shows where it resumed.
  await page.waitForFunction(() => document.getElementById('progress').value > 0, null, { timeout: 30000, polling: 20 });
  log({ event: 'resumed', percent: await percent(page) });

  await page.waitForFunction(() => {
    const s = document.getElementById('status');
    return s && !s.hidden && s.classList.contains('ok');
  }, null, { timeout: 90000, polling: 100 });
  log({ event: 'done', percent: await percent(page), status: await page.textContent('#status'),
    pauseVisible: await page.isVisible('#pause'), submitEnabled: await page.isEnabled('#submit') });
  await page.waitForFunction(() => document.querySelectorAll('#statements tbody tr').length > 0, null, { timeout: 10000 });
  const statements = await page.$$eval('#statements tbody tr', (rows) => rows.map((r) => r.innerText));
  const stored = await page.evaluate(() => Object.keys(localStorage).filter((k) => k.startsWith('presession-upload:')).length);
  if (opts.again) {
    await page.fill('#title', 'A second statement');
    await page.selectOption('#language', 'es');
    await page.setInputFiles('#file', opts.file);
    await page.focus('#submit');
    await page.keyboard.press('Enter');
    // A refusal is shown at once, not retried in the background.
    await page.waitForFunction(() => {
      const e = document.getElementById('error');
      return e && !e.hidden && e.textContent.trim() !== '';
    }, null, { timeout: 15000, polling: 100 });
    log({ event: 'refusedAgain', message: await page.textContent('#error'), focused: await page.evaluate(() => document.activeElement.id),
      submitEnabled: await page.isEnabled('#submit') });
  }
  result = { ok: true, events, statements, stored };
} catch (e) {
  result = { ok: false, error: String(e && e.stack ? e.stack : e), events };
} finally {
  await ctx.close();
  rmSync(profile, { recursive: true, force: true });
}
process.stdout.write(JSON.stringify(result) + '\n');
