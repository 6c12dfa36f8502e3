// checks.mjs: what the staff pages' Chromium scripts check on every page,
// shared by them: an axe scan at desktop and phone width, a wait for the
// live region to say something, and Tab until a control has the focus.
import assert from 'node:assert/strict';

// scan runs axe-core (its source given) on the page at 1280 and 390 px:
// no serious or critical violation, no horizontal overflow (naming the
// elements that stick out). It returns how many scans it made.
export async function scan(page, label, axeSource) {
  for (const width of [1280, 390]) {
    await page.setViewportSize({ width, height: 900 });
    await page.evaluate(axeSource);
    const res = await page.evaluate(async () => {
      // eslint-disable-next-line no-undef
      const r = await axe.run(document, { resultTypes: ['violations'] });
      if (r.passes.length === 0) return [{ id: 'axe-did-not-run', impact: 'critical' }];
      return r.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.slice(0, 3).map((n) => n.target.join(' ')) }));
    });
    const bad = res.filter((v) => v.impact === 'serious' || v.impact === 'critical');
    assert.deepEqual(bad, [], `axe ${label} at ${width} px: ${JSON.stringify(bad, null, 1)}`);
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
    const wide = overflow <= 0 ? [] : await page.evaluate(() => {
      const w = document.documentElement.clientWidth;
      return [...document.querySelectorAll('body *')].filter((el) => el.getBoundingClientRect().right > w + 1)
        .slice(-3).map((el) => el.tagName + (el.id ? '#' + el.id : '') + '.' + el.className);
    });
    assert.ok(overflow <= 0, `${label} at ${width} px: the page overflows horizontally by ${overflow}px (${wide.join(', ')})`);
  }
  await page.setViewportSize({ width: 1280, height: 900 });
  return 2;
}

// liveText waits until the page's live region says something matching re.
export async function liveText(page, re) {
  try {
    await page.waitForFunction((src) => new RegExp(src).test(document.getElementById('live').textContent), re.source, { timeout: 10000 });
  } catch (e) {
    throw new Error(`live region never said ${re}; it says ${JSON.stringify(await page.textContent('#live'))}`);
  }
  return page.textContent('#live');
}

// tabTo presses Tab until selector has the focus.
export async function tabTo(page, selector, max = 120) {
  for (let i = 0; i < max; i++) {
    await page.keyboard.press('Tab');
    if (await page.evaluate((sel) => document.activeElement && document.activeElement.matches(sel), selector)) return;
  }
  throw new Error(`${selector} never got the focus in ${max} Tabs`);
}

// fileChoosers catches the page's file choosers from now on and returns
// next(ms), the next one opened. Set it up with the page: Playwright
// intercepts choosers once a listener exists, and one added just before
// pressing Space on a file field can lose that race (the browser's own
// dialog opens, which no script sees).
export function fileChoosers(page) {
  const opened = [];
  const waiting = [];
  page.on('filechooser', (fc) => {
    const w = waiting.shift();
    if (w) w(fc); else opened.push(fc);
  });
  return function next(ms = 20000) {
    if (opened.length) return Promise.resolve(opened.shift());
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('no file chooser opened')), ms);
      waiting.push((fc) => { clearTimeout(timer); resolve(fc); });
    });
  };
}
