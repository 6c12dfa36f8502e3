// Drives the upload page in Chromium through a poor line (the test puts a
// throttling, stalling and resetting proxy in front of the server): fills
// the form, sends the file and lets the page finish on its own, with no
// click or reload. Reports the tus requests it made, what the page said
// meanwhile, and how long it took. With "expectError", the server refuses
// the upload mid-way instead: reports the refusal the page shows and the
// requests made up to 3 s later. Driven by upload/poorline_test.go.
//
//   node upload-poorline.mjs '{"url": "http://PROXY/upload?token=T", "file": "/tmp/x.mp4", "chromium": "/usr/bin/chromium"}'
//
// Prints one JSON object: {"ok": true, "events": [...], "requests": {...}, "said": [...], "ms": N}
// or {"ok": false, "error": "...", "events": [...]}.
import { chromium } from 'playwright-core';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const opts = JSON.parse(process.argv[2]);
const events = [];
const log = (e) => events.push(e);
const profile = mkdtempSync(join(tmpdir(), 'upload-poorline-'));
const ctx = await chromium.launchPersistentContext(profile, {
  executablePath: opts.chromium || '/usr/bin/chromium',
  headless: true,
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});

let result;
try {
  const page = ctx.pages()[0] || await ctx.newPage();
  page.on('pageerror', (e) => log({ event: 'pageerror', message: String(e) }));
  const requests = {};
  page.on('requestfinished', (r) => { if (r.url().includes('/files/')) requests[r.method()] = (requests[r.method()] || 0) + 1; });
  page.on('requestfailed', (r) => {
    if (r.url().includes('/files/')) log({ event: 'failed', method: r.method(), error: r.failure() && r.failure().errorText });
  });
  await page.goto(opts.url, { waitUntil: 'load' });
  await page.fill('#title', 'Sent over a poor line');
  await page.setInputFiles('#file', opts.file);
  await page.evaluate(() => {
    window.__said = [];
    const s = document.getElementById('status');
    new MutationObserver(() => { if (s.textContent) window.__said.push(s.textContent); }).observe(s, { childList: true, characterData: true, subtree: true });
  });
  const t0 = Date.now();
  await page.click('#submit');
  if (opts.expectError) { // a refusal mid-way: shown at once, not retried
    await page.waitForFunction(() => !document.getElementById('error').hidden, null, { timeout: (opts.timeout || 180) * 1000, polling: 50 });
    const shown = { error: await page.textContent('#error'), focused: await page.evaluate(() => document.activeElement.id),
      submitEnabled: await page.isEnabled('#submit'), pauseHidden: await page.isHidden('#pause'), ms: Date.now() - t0 };
    await new Promise((r) => setTimeout(r, 3000));
    result = { ok: true, events, requests, ...shown };
    throw null; // eslint-disable-line no-throw-literal
  }
  await page.waitForFunction(() => document.getElementById('status').classList.contains('ok'), null, { timeout: (opts.timeout || 180) * 1000, polling: 100 });
  const ms = Date.now() - t0;
  const said = [...new Set(await page.evaluate(() => window.__said))];
  result = { ok: true, events, requests, said, ms, percent: await page.evaluate(() => document.getElementById('progress').value / 10) };
} catch (e) {
  if (e !== null) result = { ok: false, error: String(e && e.stack ? e.stack : e), events };
} finally {
  await ctx.close();
  rmSync(profile, { recursive: true, force: true });
}
process.stdout.write(JSON.stringify(result) + '\n');
