// Watches a country's premiere in Chromium, as delegations do, from the
// watch page: one page with the browser's own HLS opened before the
// start (the countdown, then the live stream across a statement boundary,
// the statement on air announced, the captions of the next statement,
// then the questions link and the recorded stream), and two pages playing
// with hls.js (the page's player where there is no native HLS) joining
// JOIN seconds apart, compared at the live edge by
// EXT-X-PROGRAM-DATE-TIME (hls.js's playingDate).
// Usage: node premiere-watch.mjs SPEC_JSON CHROMIUM_PATH NODE_MODULES_DIR
// SPEC: {"url", "start" (RFC 3339), "join" (s), "statements": [{"id", "title", "organisation", "start", "duration"}]}
import { createRequire } from 'node:module';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const [specJSON, chromiumPath, modules] = process.argv.slice(2);
const spec = JSON.parse(specJSON);
const require = createRequire(path.join(modules, 'package.json'));
const { chromium } = require('playwright-core');

const start = Date.parse(spec.start);
const total = spec.statements.reduce((s, x) => s + x.duration, 0);
const sleepUntil = (t) => new Promise((r) => setTimeout(r, Math.max(0, t - Date.now())));
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'premiere-watch-'));
const ctx = await chromium.launchPersistentContext(dir, {
  executablePath: chromiumPath, headless: true,
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync',
    '--autoplay-policy=no-user-gesture-required'],
});
const result = { ok: false, log: [] };
const log = (m) => result.log.push(((Date.now() - start) / 1000).toFixed(1) + 's ' + m);

// open loads the watch page. The page plays the live stream with hls.js
// wherever there are Media Source Extensions; nativeOnly takes them away,
// as on an iPhone, so that it plays with Chromium's own HLS.
async function open(name, nativeOnly) {
  const page = await ctx.newPage();
  page.on('console', (m) => { if (m.type() === 'error' || m.type() === 'warning') log(name + ' console: ' + m.text()); });
  page.on('pageerror', (e) => log(name + ' page error: ' + e.message));
  if (nativeOnly) {
    await page.addInitScript(() => {
      for (const k of ['MediaSource', 'ManagedMediaSource', 'WebKitMediaSource']) Object.defineProperty(window, k, { value: undefined, configurable: true });
    });
  }
  await page.setViewportSize({ width: 1280, height: 900 });
  const res = await page.goto(spec.url);
  if (res.status() !== 200) throw new Error(name + ': watch page ' + res.status());
  return page;
}

// watchCues collects, in the page, the text of every cue that becomes
// active on a showing caption track, and the statement announced.
const watchCues = () => {
  window.__cues = new Set();
  window.__now = [];
  const v = document.getElementById('player');
  const now = document.getElementById('now');
  new MutationObserver(() => window.__now.push(now.textContent + ' @' + v.currentTime.toFixed(1))).observe(now, { childList: true, characterData: true, subtree: true });
  setInterval(() => {
    for (const t of v.textTracks) {
      if (t.mode === 'disabled' && (t.language === 'en' || t.label === 'English')) t.mode = 'showing';
      if (t.mode === 'showing' && t.activeCues) for (const c of t.activeCues) window.__cues.add(c.text);
    }
  }, 100);
};

try {
  // 1. The native page before the start: the countdown.
  const a = await open('native', true);
  await a.evaluate(watchCues);
  const before = await a.evaluate(async () => {
    await new Promise((r) => setTimeout(r, 1500));
    const c = document.getElementById('countdown');
    return { native: document.getElementById('player').canPlayType('application/vnd.apple.mpegurl'),
      countdown: c.hidden ? null : c.textContent, role: c.getAttribute('role'), live: !document.getElementById('live-bar').hidden,
      local: document.querySelector('#premiere [data-local]')?.textContent };
  });
  log('before: ' + JSON.stringify(before));
  if (Date.now() < start - 1000) {
    if (!before.countdown || !/\d:\d\d/.test(before.countdown)) throw new Error('no countdown before the start: ' + JSON.stringify(before));
    if (before.live) throw new Error('the live bar shows before the start');
  }
  result.native = before.native;

  // 2. The first hls.js page joins just after the start.
  await sleepUntil(start + 1000);
  const b = await open('hls.js 1', false);
  await b.evaluate(watchCues);

  // 3. The native page is live: the live stream in the player.
  const live = await a.evaluate(async () => {
    const v = document.getElementById('player');
    const t0 = performance.now();
    while (performance.now() - t0 < 10000 && !(v.currentSrc.includes('/live/') && v.currentTime > 0.5)) await new Promise((r) => setTimeout(r, 100));
    return { src: v.currentSrc.replace(/key=[^&]+/, 'key=…'), time: v.currentTime, bar: !document.getElementById('live-bar').hidden,
      countdown: !document.getElementById('countdown').hidden, badge: document.getElementById('live-badge').textContent,
      paused: v.paused, duration: v.duration, seekable: v.seekable.length ? [v.seekable.start(0), v.seekable.end(v.seekable.length - 1)] : null };
  });
  log('native live: ' + JSON.stringify(live));
  if (!live.src.includes('/live/master.m3u8') || !live.bar || live.countdown || live.paused) throw new Error('the native page is not playing the live stream: ' + JSON.stringify(live));
  result.pages = {};

  // 4. The native page plays across the first boundary: the second
  // statement announced, its captions (the premiere's tracks) on screen.
  const across = await a.evaluate(async (until) => {
    const v = document.getElementById('player');
    const t0 = performance.now();
    while (performance.now() - t0 < 20000 && v.currentTime < until) await new Promise((r) => setTimeout(r, 100));
    return { time: v.currentTime, paused: v.paused, cues: [...window.__cues], now: window.__now };
  }, spec.statements[1].start + 1.6);
  log('native across: ' + JSON.stringify(across));
  if (!(across.time >= spec.statements[1].start + 1.6)) throw new Error('the native page did not play across the first boundary: ' + JSON.stringify(across));
  result.pages.native = across;
  await a.close();

  // 5. The second hls.js page joins JOIN seconds after the first.
  await sleepUntil(start + 1000 + spec.join * 1000);
  const c = await open('hls.js 2', false);
  await c.evaluate(watchCues);
  const playing = (p) => p.evaluate(async () => {
    const t0 = performance.now();
    while (performance.now() - t0 < 10000 && !(window.presessionHls && window.presessionHls.playingDate && !document.getElementById('player').paused && document.getElementById('player').currentTime > 0)) {
      await new Promise((r) => setTimeout(r, 100));
    }
    const h = window.presessionHls;
    return h && h.playingDate ? { ok: true } : { ok: false, src: document.getElementById('player').currentSrc };
  });
  for (const [n, p] of [['1', b], ['2', c]]) {
    const r = await playing(p);
    if (!r.ok) throw new Error('hls.js page ' + n + ' does not play: ' + JSON.stringify(r));
  }
  await new Promise((r) => setTimeout(r, 2500)); // the second one settles at the edge
  const sample = (p) => p.evaluate(() => {
    const h = window.presessionHls, v = document.getElementById('player');
    return { date: h.playingDate.getTime(), at: Date.now(), time: v.currentTime, edge: h.liveSyncPosition, badge: document.getElementById('live-badge').textContent,
      atEdge: document.getElementById('live-badge').classList.contains('at-edge'), target: h.levels[h.currentLevel]?.details?.targetduration };
  });
  const s1 = await sample(b);
  const s2 = await sample(c);
  const apart = Math.abs((s1.date + (s2.at - s1.at)) - s2.date) / 1000;
  log('hls.js 1: ' + JSON.stringify(s1) + ' hls.js 2: ' + JSON.stringify(s2) + ' apart ' + apart.toFixed(3) + ' s');
  result.apart = apart;
  result.target = s1.target;
  if (!s1.atEdge || !s2.atEdge) throw new Error('an hls.js page does not show itself at the live edge');

  // 6. Back to live: the first hls.js page goes back 10 s, is behind,
  // and the button (from the keyboard) takes it back to the edge.
  const behind = await b.evaluate(async () => {
    const v = document.getElementById('player');
    v.currentTime = Math.max(0, v.currentTime - 10);
    await new Promise((r) => setTimeout(r, 1200));
    return { badge: document.getElementById('live-badge').textContent, atEdge: document.getElementById('live-badge').classList.contains('at-edge') };
  });
  await b.focus('#to-live');
  await b.keyboard.press('Enter');
  const back = await b.evaluate(async () => {
    await new Promise((r) => setTimeout(r, 1200));
    const h = window.presessionHls, v = document.getElementById('player');
    return { behind: h.liveSyncPosition - v.currentTime, atEdge: document.getElementById('live-badge').classList.contains('at-edge') };
  });
  log('behind: ' + JSON.stringify(behind) + ' back: ' + JSON.stringify(back));
  if (behind.atEdge || !back.atEdge) throw new Error('back to live: behind ' + JSON.stringify(behind) + ', after the button ' + JSON.stringify(back));

  // 7. The end: each hls.js page plays to the end of the last statement, then
  // shows the questions link and has the recorded stream.
  await sleepUntil(start + total * 1000 + 6000);
  const end = async (p) => p.evaluate(async () => {
    const t0 = performance.now();
    const after = document.getElementById('after');
    while (performance.now() - t0 < 20000 && after.hidden) await new Promise((r) => setTimeout(r, 200));
    const v = document.getElementById('player');
    return { time: v.currentTime, paused: v.paused, ended: v.ended, ready: v.readyState, net: v.networkState, error: v.error && v.error.message,
      buffered: [...Array(v.buffered.length).keys()].map((i) => [v.buffered.start(i), v.buffered.end(i)]),
      after: !after.hidden, questions: document.getElementById('questions')?.href, src: v.currentSrc.replace(/key=[^&]+/, 'key=…'),
      premiere: v.dataset.premiere, bar: !document.getElementById('live-bar').hidden, cues: [...window.__cues], now: window.__now };
  });
  for (const [n, p] of [['hlsjs1', b], ['hlsjs2', c]]) {
    const e = await end(p);
    log(n + ' end: ' + JSON.stringify(e));
    result.pages[n] = e;
    if (!e.after || e.bar || e.premiere !== 'recorded' || e.src.includes('/live/')) throw new Error(n + ': after the premiere: ' + JSON.stringify(e));
  }
  result.ok = true;
} catch (e) {
  result.error = String(e && e.stack || e);
} finally {
  await ctx.close();
  fs.rmSync(dir, { recursive: true, force: true });
}
console.log(JSON.stringify(result));
process.exit(result.ok ? 0 : 1);
