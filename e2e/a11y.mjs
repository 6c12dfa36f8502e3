// a11y.mjs runs axe-core in Chromium on pages and reports serious and
// critical violations, at desktop width and at 390 px, plus horizontal
// overflow at phone width.
//
//   node a11y.mjs '{"pages": [{"name": "home", "url": "http://...", "cookies": [...]}],
//                   "widths": [1280, 390]}'
//
// Prints one JSON object: {"results": [{name, width, violations: [...], overflow}]}.
// Exit code 0 even with findings: the Go test decides.
import { chromium } from 'playwright-core';
import { readFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const axeSource = readFileSync(join(here, 'node_modules/axe-core/axe.min.js'), 'utf8');
const spec = JSON.parse(process.argv[2]);
const widths = spec.widths || [1280, 390];
const profile = mkdtempSync(join(tmpdir(), 'a11y-'));
const ctx = await chromium.launchPersistentContext(profile, {
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  headless: true,
  bypassCSP: true, // lets the test inject axe; the pages' own CSP stays strict
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
const results = [];
try {
  for (const p of spec.pages) {
    if (p.cookies) await ctx.addCookies(p.cookies);
    for (const width of widths) {
      const page = await ctx.newPage();
      await page.setViewportSize({ width, height: 900 });
      await page.goto(p.url, { waitUntil: 'load' });
      // Generous: a page that fills itself in (a premiere's live bar) waits on the
      // server and the player, which a loaded CI machine slows; not a speed check.
      if (p.waitFor) await page.waitForSelector(p.waitFor, { timeout: 30000 });
      await page.addScriptTag({ content: axeSource });
      const r = await page.evaluate(async () => {
        // eslint-disable-next-line no-undef
        const res = await axe.run(document, { resultTypes: ['violations'] });
        return res.violations.map(v => ({ id: v.id, impact: v.impact, help: v.help,
          nodes: v.nodes.slice(0, 5).map(n => n.target.join(' ') + ': ' + n.failureSummary) }));
      });
      const overflow = await page.evaluate(() => {
        const w = document.documentElement.clientWidth;
        const wide = [];
        for (const el of document.querySelectorAll('body *')) {
          const r = el.getBoundingClientRect();
          if (r.width > 0 && r.right > w + 1 && getComputedStyle(el).position !== 'absolute') {
            // an element inside a horizontally scrollable wrapper is fine
            let p = el.parentElement, scrolls = false;
            while (p) { const s = getComputedStyle(p); if (s.overflowX === 'auto' || s.overflowX === 'scroll') { scrolls = true; break; } p = p.parentElement; }
            if (!scrolls) wide.push(el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') + (el.className && typeof el.className === 'string' ? '.' + el.className.split(' ').join('.') : ''));
          }
        }
        return { scrollWidth: document.documentElement.scrollWidth, clientWidth: w, wide: wide.slice(0, 5) };
      });
      const lang = await page.evaluate(() => document.documentElement.lang);
      results.push({ name: p.name, width, lang, violations: r, overflow });
      await page.close();
    }
  }
} finally {
  await ctx.close();
  rmSync(profile, { recursive: true, force: true });
}
console.log(JSON.stringify({ results }));
