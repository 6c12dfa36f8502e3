// Drives the CSO upload page in Chromium while staff revoke its
// invitation: fills the form by keyboard, sends a file of several PATCH
// chunks, and holds the second PATCH until the revocation (a POST to
// revokeURL with the staff token) is answered, so that request is the
// first under the revoked invitation. Reports what the page shows then,
// and after a reload. Driven by cmd/presession's TestRevocation.
//
//   node upload-revoked.mjs '{"url": "http://.../upload?lang=fr&token=T", "file": "/tmp/x.mp4",
//                             "revokeURL": "http://.../api/v1/invitations/ID/revoke", "staffToken": "...",
//                             "chromium": "/usr/bin/chromium"}'
//
// Prints one JSON object: {"ok": true, "events": [...], "error": "<the page's message>",
// "formHidden": true, "pauseHidden": true, "status": "...", "saved": 0, "reloaded": "..."}
// or {"ok": false, "failure": "...", "events": [...]}.
import { chromium } from 'playwright-core';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const opts = JSON.parse(process.argv[2]);
const events = [];
const log = (e) => events.push(e);
const profile = mkdtempSync(join(tmpdir(), 'upload-revoked-'));
const ctx = await chromium.launchPersistentContext(profile, {
  executablePath: opts.chromium || '/usr/bin/chromium',
  headless: true,
  viewport: { width: 390, height: 844 },
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});

let result;
try {
  const page = ctx.pages()[0] || await ctx.newPage();
  page.on('pageerror', (e) => log({ event: 'pageerror', message: String(e) }));
  let patches = 0;
  await page.route('**/files/**', async (route) => {
    const req = route.request();
    if (req.method() === 'PATCH' && ++patches === 2) {
      const res = await fetch(opts.revokeURL, { method: 'POST', headers: { Authorization: 'Bearer ' + opts.staffToken } });
      log({ event: 'revoked', status: res.status });
    }
    await route.continue();
  });
  page.on('response', (r) => {
    if (r.url().includes('/files/')) log({ event: 'tus', method: r.request().method(), status: r.status() });
  });
  await page.goto(opts.url, { waitUntil: 'load' });

  await page.focus('#title');
  await page.keyboard.type('Statement sent under the wrong invitation');
  await page.setInputFiles('#file', opts.file);
  await page.focus('#submit');
  await page.keyboard.press('Enter');
  await page.waitForFunction(() => {
    const e = document.getElementById('error');
    return e && !e.hidden && e.textContent !== '';
  }, null, { timeout: 90000, polling: 50 });
  const error = await page.textContent('#error');
  const state = await page.evaluate(() => ({
    formHidden: document.getElementById('upload-form').hidden,
    pauseHidden: document.getElementById('pause').hidden,
    status: document.getElementById('status').textContent,
    focused: document.activeElement.id,
    saved: Object.keys(localStorage).filter((k) => k.startsWith('presession-upload:')).length,
  }));
  log({ event: 'stopped', patches, ...state });

  await page.reload({ waitUntil: 'load' });
  const reloaded = await page.textContent('[role=alert]');
  result = { ok: true, events, error, reloaded, ...state };
} catch (e) {
  result = { ok: false, failure: String(e && e.stack ? e.stack : e), events };
} finally {
  await ctx.close();
  rmSync(profile, { recursive: true, force: true });
}
process.stdout.write(JSON.stringify(result) + '\n');
