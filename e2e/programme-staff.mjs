// Delays a country's slot on the staff programme page with the keyboard
// alone, in Chromium: Tab to the country's "change or delay" disclosure,
// Enter opens it, Tab to the delay field, type the minutes, Enter sends
// the form; the page comes back saying the slot is saved. Every focus stop
// must show a focus indicator.
// Usage: node programme-staff.mjs SPEC_JSON CHROMIUM_PATH NODE_MODULES_DIR
// SPEC: {"url", "cookie": {name, value, url}, "summary": text of the disclosure, "delay": "10", "saved": text expected}
import { createRequire } from 'node:module';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const [specJSON, chromiumPath, modules] = process.argv.slice(2);
const spec = JSON.parse(specJSON);
const require = createRequire(path.join(modules, 'package.json'));
const { chromium } = require('playwright-core');
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'programme-staff-'));
const ctx = await chromium.launchPersistentContext(dir, {
  executablePath: chromiumPath, headless: true,
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
const result = { ok: false, stops: 0 };
const focused = (page) => page.evaluate(() => {
  const el = document.activeElement;
  if (!el || el === document.body) return null;
  const s = getComputedStyle(el);
  return { tag: el.tagName.toLowerCase(), text: (el.textContent || '').trim().slice(0, 80), id: el.id, type: el.type || '',
    visible: (s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) > 0) || (s.boxShadow && s.boxShadow !== 'none') };
});
try {
  await ctx.addCookies([spec.cookie]);
  const page = await ctx.newPage();
  await page.setViewportSize({ width: 390, height: 800 });
  const res = await page.goto(spec.url);
  if (res.status() !== 200) throw new Error('staff programme page: ' + res.status());
  let f = null;
  for (let i = 0; i < 300; i++) {
    await page.keyboard.press('Tab');
    f = await focused(page);
    if (!f) continue;
    result.stops++;
    if (!f.visible) throw new Error('no focus indicator on ' + JSON.stringify(f));
    if (f.tag === 'summary' && f.text === spec.summary) break;
  }
  if (!f || f.tag !== 'summary') throw new Error('never reached the disclosure ' + spec.summary);
  await page.keyboard.press('Enter');
  await page.keyboard.press('Tab');
  f = await focused(page);
  if (!f || f.type !== 'number' || !f.id.startsWith('delay-')) throw new Error('after the disclosure, focus on ' + JSON.stringify(f));
  await page.keyboard.press('Control+A');
  await page.keyboard.type(spec.delay);
  await Promise.all([page.waitForNavigation(), page.keyboard.press('Enter')]);
  const saved = await page.evaluate(() => [...document.querySelectorAll('.message.ok')].map((m) => m.textContent.trim()));
  result.saved = saved;
  if (!saved.includes(spec.saved)) throw new Error('after sending: ' + JSON.stringify(saved));
  result.ok = true;
} catch (e) {
  result.error = String(e && e.stack || e);
} finally {
  await ctx.close();
  fs.rmSync(dir, { recursive: true, force: true });
}
console.log(JSON.stringify(result));
process.exit(result.ok ? 0 : 1);
