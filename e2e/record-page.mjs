// Drives the upload page's record mode in Chromium with a fake camera and
// microphone: by keyboard, switches to record mode, checks the preview,
// the device lists and the level meter, pastes a text into the
// teleprompter and sets its speed, then records takes:
//   - "clean": records `seconds`, stops, reviews, sends; reports how long
//     sending took after Stop and the recorded length;
//   - "interrupted" (with reloadAt): records, drops the network for
//     `dropFor` s at `dropAt` s (CDP offline), reloads the page at
//     `reloadAt` s, then sends what the page kept.
// Runs axe on the page in record mode at 1280 and 390 px. Driven by
// upload/record_test.go.
//
//   node record-page.mjs '{"url": "http://127.0.0.1:P/upload?token=T", "chromium": "/usr/bin/chromium",
//                          "takes": [{"name": "clean", "seconds": 20}, {"name": "cut", "seconds": 30,
//                          "dropAt": 6, "dropFor": 4, "reloadAt": 14}]}'
//
// Prints one JSON object: {"ok": true, "events": [...]} or {"ok": false, "error": "...", "events": [...]}.
import { chromium } from 'playwright-core';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const opts = JSON.parse(process.argv[2]);
const events = [];
const log = (e) => events.push(e);
const here = dirname(fileURLToPath(import.meta.url));
const profile = mkdtempSync(join(tmpdir(), 'record-page-'));
// launch opens Chromium whose permission prompts answer fakeUI: "" allows
// the camera and microphone, "=deny" refuses them.
const launch = (dir, fakeUI) => chromium.launchPersistentContext(dir, {
  executablePath: opts.chromium || '/usr/bin/chromium',
  headless: true,
  viewport: { width: 1280, height: 900 },
  bypassCSP: true, // lets the script inject axe; the page's own CSP stays strict
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync',
    '--use-fake-device-for-media-stream', '--use-fake-ui-for-media-stream' + fakeUI, '--autoplay-policy=no-user-gesture-required'],
});

const ctx = await launch(profile, '');
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const focused = (page) => page.evaluate(() => document.activeElement && document.activeElement.id);

async function axe(page, name) {
  await page.addScriptTag({ path: join(here, 'node_modules', 'axe-core', 'axe.min.js') });
  const out = [];
  for (const width of [1280, 390]) {
    await page.setViewportSize({ width, height: 900 });
    const v = await page.evaluate(async () => (await window.axe.run(document, { resultTypes: ['violations'] })).violations
      .filter((x) => x.impact === 'serious' || x.impact === 'critical').map((x) => x.id + ': ' + x.nodes.map((n) => n.target.join(' ')).join(', ')));
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth > document.documentElement.clientWidth + 1);
    out.push({ width, violations: v, overflow });
  }
  await page.setViewportSize({ width: 1280, height: 900 });
  log({ event: 'axe', name, results: out });
}

// toRecordMode switches with the keyboard: Tab to the mode radios, arrow
// to "record", and waits for the live preview and a moving level meter.
async function toRecordMode(page) {
  await page.focus('#mode-file');
  await page.keyboard.press('ArrowRight');
  const mode = await page.evaluate(() => ({ checked: document.getElementById('mode-record').checked, panel: !document.getElementById('record-panel').hidden,
    file: !document.getElementById('file-field').hidden }));
  const seen = await page.waitForFunction(() => {
    const v = document.getElementById('preview'), level = document.getElementById('level').value;
    return v.readyState >= 2 && v.videoWidth > 0 && level > 0.05 && level; // the fake microphone beeps
  }, null, { timeout: 20000, polling: 100 });
  const levelSeen = await seen.jsonValue();
  const devices = await page.evaluate(() => ({
    cameras: [...document.querySelectorAll('#camera option')].map((o) => o.textContent),
    microphones: [...document.querySelectorAll('#microphone option')].map((o) => o.textContent),
    silentNote: document.getElementById('level-note').textContent,
  }));
  log({ event: 'record mode', ...mode, ...devices, level: levelSeen });
}

async function title(page, text) {
  await page.focus('#title');
  await page.keyboard.press('Control+A');
  await page.keyboard.type(text);
  await page.keyboard.press('Tab');
  await page.keyboard.type('Ana Petrova');
}

async function prompter(page) {
  await page.focus('#prompter-text');
  await page.keyboard.press('Control+A');
  await page.keyboard.insertText(Array.from({ length: 40 }, (_, i) => `Line ${i + 1} of our written statement on the rights under review.`).join('\n'));
  await page.keyboard.press('Tab');
  const speedFocus = await focused(page);
  await page.keyboard.press('ArrowRight');
  await page.keyboard.press('ArrowRight');
  const speed = await page.inputValue('#prompter-speed');
  await page.keyboard.press('Tab');
  const prompterFocus = await focused(page);
  log({ event: 'prompter', speedFocus, speed, prompterFocus, shown: (await page.textContent('#prompter-content')).slice(0, 30) });
}

async function startTake(page) {
  await page.focus('#rec-start');
  await page.keyboard.press('Enter');
  await page.waitForFunction(() => !document.getElementById('rec-stop').hidden, null, { timeout: 10000 });
  return Date.now();
}

// Camera and microphone refused: the page says what to do, with the focus
// on the explanation and a "Try the camera again" button.
{
  const dir = mkdtempSync(join(tmpdir(), 'record-page-deny-'));
  const c = await launch(dir, '=deny');
  try {
    const page = c.pages()[0] || await c.newPage();
    await page.goto(opts.url, { waitUntil: 'load' });
    await page.focus('#mode-file');
    await page.keyboard.press('ArrowRight');
    await page.waitForFunction(() => !document.getElementById('record-error').hidden, null, { timeout: 10000 });
    log({ event: 'denied', message: await page.textContent('#record-error'), focused: await focused(page), retry: await page.isVisible('#rec-retry'),
      start: await page.isVisible('#rec-start') });
    await axe(page, 'camera refused');
  } catch (e) {
    log({ event: 'denied', error: String(e) });
  } finally {
    await c.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
let result;
try {
  const page = ctx.pages()[0] || await ctx.newPage();
  page.on('pageerror', (e) => log({ event: 'pageerror', message: String(e) }));
  const cdp = await ctx.newCDPSession(page);
  await page.goto(opts.url, { waitUntil: 'load' });
  await toRecordMode(page);
  await axe(page, 'record mode');

  for (const take of opts.takes) {
    await title(page, 'Recorded statement ' + take.name);
    await prompter(page);
    const t0 = await startTake(page);
    log({ event: 'recording', take: take.name, focused: await focused(page) });
    const at = (s) => sleep(Math.max(0, t0 + s * 1000 - Date.now()));
    if (take.dropAt != null) {
      await at(take.dropAt);
      await cdp.send('Network.enable');
      await cdp.send('Network.emulateNetworkConditions', { offline: true, latency: 0, downloadThroughput: -1, uploadThroughput: -1 });
      log({ event: 'offline', take: take.name, at: (Date.now() - t0) / 1000 });
      await sleep(take.dropFor * 1000);
      const during = await page.textContent('#status');
      await cdp.send('Network.emulateNetworkConditions', { offline: false, latency: 0, downloadThroughput: -1, uploadThroughput: -1 });
      log({ event: 'online', take: take.name, at: (Date.now() - t0) / 1000, status: during });
    }
    if (take.reloadAt != null) {
      await at(take.reloadAt);
      const scrolled = await page.evaluate(() => document.getElementById('prompter').scrollTop);
      const kept = await page.evaluate(() => {
        const k = Object.keys(localStorage).find((x) => x.includes(':rec:'));
        return k ? JSON.parse(localStorage.getItem(k)) : null;
      });
      log({ event: 'reloading', take: take.name, at: (Date.now() - t0) / 1000, seconds: kept && kept.seconds, offset: kept && kept.offset, scrolled });
      await page.reload({ waitUntil: 'load' });
      await page.waitForFunction(() => !document.getElementById('rec-send').hidden, null, { timeout: 10000 });
      log({ event: 'reloaded', take: take.name, note: await page.textContent('#resume-note'), title: await page.inputValue('#title'),
        record: await page.isChecked('#mode-record') });
      await axe(page, 'interrupted recording');
    } else {
      let scrolled;
      if (take.auto) { // the page stops by itself at the session's limit
        await page.waitForFunction(() => !document.getElementById('rec-send').hidden, null, { timeout: (take.seconds + 10) * 1000, polling: 50 });
        scrolled = await page.evaluate(() => document.getElementById('prompter').scrollTop);
      } else {
        await at(take.seconds);
        scrolled = await page.evaluate(() => document.getElementById('prompter').scrollTop);
        await page.focus('#rec-stop');
        await page.keyboard.press('Enter');
        await page.waitForFunction(() => !document.getElementById('rec-send').hidden, null, { timeout: 10000 });
      }
      const review = await page.evaluate(() => ({ review: !document.getElementById('take').hidden, focused: document.activeElement.id,
        status: document.getElementById('rec-status').textContent }));
      log({ event: 'stopped', take: take.name, at: (Date.now() - t0) / 1000, scrolled, ...review });
      if (take.retake) {
        await page.focus('#rec-retake');
        await page.keyboard.press('Enter');
        await page.waitForFunction(() => !document.getElementById('rec-start').hidden, null, { timeout: 10000 });
        log({ event: 'retaken', take: take.name, focused: await focused(page), status: await page.textContent('#status') });
        continue;
      }
    }
    await page.focus('#rec-send');
    const sentAt = Date.now();
    await page.keyboard.press('Enter');
    await page.waitForFunction(() => document.getElementById('status').classList.contains('ok'), null, { timeout: 60000, polling: 20 });
    log({ event: 'sent', take: take.name, sendMs: Date.now() - sentAt, status: await page.textContent('#status'), focused: await focused(page),
      saved: await page.evaluate(() => Object.keys(localStorage).filter((k) => k.includes(':rec:')).length) });
    await page.waitForFunction(() => !document.getElementById('rec-start').hidden, null, { timeout: 10000 });
  }
  result = { ok: true, events };
} catch (e) {
  result = { ok: false, error: String(e && e.stack ? e.stack : e), events };
} finally {
  await ctx.close();
  rmSync(profile, { recursive: true, force: true });
}
process.stdout.write(JSON.stringify(result) + '\n');
