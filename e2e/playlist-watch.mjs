// Plays the watch page of a country in Chromium: across the first
// statement boundary, then jumps with the chapter list (keyboard), and
// checks that captions of the statement on screen show.
// Usage: node playlist-watch.mjs WATCH_URL CHROMIUM_PATH NODE_MODULES_DIR
import { createRequire } from 'node:module';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const [url, chromiumPath, modules] = process.argv.slice(2);
const require = createRequire(path.join(modules, 'package.json'));
const { chromium } = require('playwright-core');

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'playlist-watch-'));
const ctx = await chromium.launchPersistentContext(dir, {
  executablePath: chromiumPath, headless: true,
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync',
    '--autoplay-policy=no-user-gesture-required'],
});
const result = { ok: false, log: [] };
const log = (m) => result.log.push(m);
try {
  const page = await ctx.newPage();
  page.on('console', (m) => log('console: ' + m.text()));
  page.on('requestfailed', (r) => log('request failed: ' + r.url().replace(/key=[^&]+/, 'key=…')));
  await page.setViewportSize({ width: 375, height: 740 }); // phone width
  const res = await page.goto(url);
  if (res.status() !== 200) throw new Error('watch page: ' + res.status());
  const info = await page.evaluate(() => {
    const b = [...document.querySelectorAll('button.chapter')];
    return {
      native: document.getElementById('player').canPlayType('application/vnd.apple.mpegurl'),
      chapters: b.map((x) => ({ start: +x.dataset.start, end: +x.dataset.end, title: x.dataset.title })),
      tracks: [...document.querySelectorAll('#player track')].map((t) => t.srclang),
      overflow: document.documentElement.scrollWidth > window.innerWidth + 1,
    };
  });
  log('page: ' + JSON.stringify(info));
  if (info.chapters.length < 3) throw new Error('fewer than 3 chapters');
  if (info.overflow) throw new Error('the page scrolls sideways at phone width');

  // 1. Play across the first boundary.
  const first = await page.evaluate(async (end) => {
    const v = document.getElementById('player');
    const errors = [];
    v.addEventListener('error', () => errors.push(v.error && v.error.message));
    for (const t of v.textTracks) t.mode = t.language === 'en' ? 'showing' : 'disabled';
    await v.play();
    const t0 = performance.now();
    const cues = new Set();
    while (performance.now() - t0 < 25000 && v.currentTime < end + 1 && !v.ended && errors.length === 0) {
      await new Promise((r) => setTimeout(r, 100));
      for (const t of v.textTracks) if (t.mode === 'showing' && t.activeCues) for (const c of t.activeCues) cues.add(c.text);
    }
    return { time: v.currentTime, ended: v.ended, errors, cues: [...cues], duration: v.duration,
      current: document.querySelector('button.chapter[aria-current=true]')?.dataset.index, now: document.getElementById('now').textContent };
  }, info.chapters[0].end);
  log('across: ' + JSON.stringify(first));
  if (first.errors.length) throw new Error('media error: ' + first.errors.join(', '));
  if (!(first.time > info.chapters[0].end + 0.5)) throw new Error(`playback stopped at ${first.time}, before passing the first statement's end ${info.chapters[0].end}`);
  if (first.current !== '1') throw new Error('the second chapter is not marked current: ' + first.current);

  // 2. Jump to the third statement with the keyboard.
  await page.focus('button.chapter[data-index="2"]');
  await page.keyboard.press('Enter');
  const jump = await page.evaluate(async (start) => {
    const v = document.getElementById('player');
    const t0 = performance.now();
    const cues = new Set();
    while (performance.now() - t0 < 15000 && !(v.currentTime > start + 1.6)) {
      await new Promise((r) => setTimeout(r, 100));
      for (const t of v.textTracks) if (t.mode === 'showing' && t.activeCues) for (const c of t.activeCues) cues.add(c.text);
    }
    return { time: v.currentTime, paused: v.paused, cues: [...cues],
      current: document.querySelector('button.chapter[aria-current=true]')?.dataset.index };
  }, info.chapters[2].start);
  log('jump: ' + JSON.stringify(jump));
  if (!(jump.time >= info.chapters[2].start && jump.time < info.chapters[2].end + 0.5)) throw new Error('the chapter button did not jump: ' + jump.time);
  if (jump.current !== '2') throw new Error('the third chapter is not marked current');
  result.first = first;
  result.jump = jump;
  result.ok = true;
} catch (e) {
  result.error = String(e && e.stack || e);
} finally {
  await ctx.close();
  fs.rmSync(dir, { recursive: true, force: true });
}
console.log(JSON.stringify(result));
process.exit(result.ok ? 0 : 1);
