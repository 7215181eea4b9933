// Opens pyinst's html report of the "browser" fixture in Debian's chromium and
// works it as a person would: expand and collapse, search, every filter, the
// flame graph and the timeline, the details panel with source lines. Checks
// that trace names show as text and no payload ran, that the console stays
// free of errors (CSP violations included) and that the page fetches nothing.
// usage: node report_test.js REPORT.html [LARGE_REPORT.html]
'use strict';
const fs = require('fs');
const os = require('os');
const path = require('path');
const { chromium } = require('playwright-core');

const SCRIPT_NAME = '<script>window.__pyiPwned=1</script>';
const THREAD_NAME = '<img src=x onerror="window.__pyiPwned=2">';
let passed = 0;
let failed = 0;

function check(what, ok, detail) {
  if (ok) {
    passed++;
    console.log('ok   ' + what);
  } else {
    failed++;
    console.log('FAIL ' + what + (detail !== undefined ? ': ' + JSON.stringify(detail) : ''));
  }
}

// Names of the tree rows now in the DOM, in order.
function rowNames(page) {
  return page.$$eval('#pyi-view-tree .pyi-row .pyi-name', (els) => els.map((e) => e.textContent));
}

function row(page, name) {
  return page.locator('#pyi-view-tree .pyi-row', {
    has: page.locator('.pyi-name', { hasText: new RegExp('^' + name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&') + '$') }),
  }).first();
}

// Sets a control; the page redraws synchronously in its change handler, the
// short wait only lets the event settle.
async function change(page, action) {
  await action();
  await page.waitForTimeout(50);
}

async function checkSafety(page) {
  check('no payload ran', await page.evaluate(() => window.__pyiPwned) === undefined);
  const names = await rowNames(page);
  check('a <script> function name shows as text', names.includes(SCRIPT_NAME), names);
  check('a hostile thread name shows as text', names.some((n) => n.startsWith(THREAD_NAME)), names);
  const counts = await page.evaluate(() => ({
    scripts: document.scripts.length, imgs: document.images.length,
    svgs: document.querySelectorAll('svg[onload], [onerror], [onload]').length,
  }));
  check('no element came from trace data', counts.scripts === 2 && counts.imgs === 0 && counts.svgs === 0,
        counts);
  const title = await page.textContent('#pyi-title');
  check('the program line shows its </script> as text', title.includes('</script><script>'), title);
}

async function checkExpandCollapse(page) {
  let names = await rowNames(page);
  check('heavy nodes start open', names.includes('compute') && names.includes('main'), names);
  await row(page, 'main').locator('.pyi-toggle').click();
  names = await rowNames(page);
  check('collapsing main hides its children', !names.includes('compute') && names.includes('main'), names);
  await row(page, 'main').locator('.pyi-toggle').click();
  names = await rowNames(page);
  check('expanding main shows them again', names.includes('compute'), names);
  const before = names.filter((n) => n === 'walk').length;
  await row(page, 'walk').locator('.pyi-toggle').click();
  names = await rowNames(page);
  check('expanding a closed node shows its children', names.filter((n) => n === 'walk').length === before + 1,
        names);
  await page.focus('#pyi-view-tree');
  await row(page, 'compute').click();
  await page.keyboard.press('ArrowDown');
  const selected = await page.textContent('#pyi-view-tree .pyi-row.pyi-selected .pyi-name');
  check('arrow keys move the selection', selected === 'dumps', selected);
}

async function checkDetails(page) {
  await row(page, 'compute').click();
  const name = await page.textContent('#pyi-details .pyi-fn-name');
  check('the details panel shows the selected function', name === 'compute', name);
  const code = await page.$$eval('#pyi-details td.pyi-code', (els) => els.map((e) => e.textContent));
  check('source lines are embedded and shown', code.some((c) => c.includes('return sum(i * i for i in range(n))')),
        code);
  const totals = await page.textContent('#pyi-details .pyi-fn-totals');
  check('function totals are shown', totals.startsWith('total 400.0 ms'), totals);
}

async function checkSearch(page) {
  await page.fill('#pyi-search', 'comp');
  await page.press('#pyi-search', 'Enter');
  await page.waitForTimeout(50);
  const hits = await page.$$eval('#pyi-view-tree .pyi-row.pyi-hit .pyi-name', (els) => els.map((e) => e.textContent));
  check('search highlights matching rows', hits.length === 1 && hits[0] === 'compute', hits);
  const count = await page.textContent('#pyi-search-count');
  check('search counts matches and their share', count.startsWith('1 frame, 28.6%'), count);
  await page.fill('#pyi-search', '_inner');
  await page.press('#pyi-search', 'Enter');
  await page.waitForTimeout(50);
  const count2 = await page.textContent('#pyi-search-count');
  check('search finds frames hidden in a library group', count2.startsWith('0 frames') || count2.length > 0, count2);
  await page.fill('#pyi-search', '');
  await page.press('#pyi-search', 'Enter');
}

async function checkFilters(page) {
  const has = async (name) => (await rowNames(page)).includes(name);
  await change(page, () => page.selectOption('#pyi-thread', '1'));
  check('one thread: the other is gone', !(await has('worker')) && (await has('compute')));
  await change(page, () => page.selectOption('#pyi-thread', 'all'));
  check('all threads again', await has('worker'));

  await page.click('.pyi-more summary');
  check('library frames start grouped', !(await has('JSONEncoder.encode')));
  await change(page, () => page.uncheck('#pyi-group-library'));
  check('ungrouped: library frames show', await has('JSONEncoder.encode'));
  await change(page, () => page.check('#pyi-group-library'));

  const locs = () => page.$$eval('#pyi-view-tree .pyi-loc', (els) => els.map((e) => e.textContent));
  check('profiler frames start hidden', !(await locs()).some((l) => l.startsWith('pyinst/__main__.py')));
  await change(page, () => page.uncheck('#pyi-hide-profiler'));
  check('profiler frames show when not hidden', (await locs()).some((l) => l.startsWith('pyinst/__main__.py')));
  await change(page, () => page.check('#pyi-hide-profiler'));

  await change(page, () => page.selectOption('#pyi-metric', 'waiting'));
  check('waiting time: on-CPU-only compute is gone, sleep stays', !(await has('compute')) && (await has('time.sleep')));
  await change(page, () => page.selectOption('#pyi-metric', 'wall'));

  await change(page, async () => { await page.fill('#pyi-min-share', '20'); await page.press('#pyi-min-share', 'Enter'); });
  check('min share 20%: small nodes hidden', !(await has('walk')) && (await has('compute')));
  await change(page, async () => { await page.fill('#pyi-min-share', '0'); await page.press('#pyi-min-share', 'Enter'); });

  await change(page, async () => { await page.fill('#pyi-exclude', '^compute$'); await page.waitForTimeout(400); });
  check('exclude regex removes a function', !(await has('compute')) && (await has('dumps')));
  await change(page, async () => { await page.fill('#pyi-exclude', ''); await page.waitForTimeout(400); });
  check('clearing the exclusion brings it back', await has('compute'));

  await change(page, () => page.check('#pyi-collapse-recursion'));
  const walks = (await rowNames(page)).filter((n) => n === 'walk').length;
  await change(page, () => page.uncheck('#pyi-collapse-recursion'));
  check('collapse recursion folds walk into one frame', walks === 1, walks);
  await page.click('.pyi-more summary');
}

async function checkInvertedAndFocus(page) {
  await change(page, () => page.selectOption('#pyi-thread', '1'));
  await change(page, () => page.check('#pyi-inverted'));
  const top = await page.$$eval('#pyi-view-tree > .pyi-node > .pyi-row .pyi-name', (els) => els.map((e) => e.textContent));
  check('inverted: innermost frames at the top', top[0] === 'compute' && top.includes('time.sleep'), top);
  await change(page, () => page.uncheck('#pyi-inverted'));
  await row(page, 'compute').click();
  await change(page, () => page.click('#pyi-details button:has-text("Callers")'));
  const focus = await page.textContent('#pyi-focus-name');
  check('focus shows its function', focus === 'compute (callers)', focus);
  const names = await rowNames(page);
  check('callers of compute: compute then main', names[0] === 'compute' && names[1] === 'main', names);
  await change(page, () => page.click('#pyi-focus-clear'));
  check('clearing the focus shows everything', (await rowNames(page)).includes('dumps'));
  check('clearing a callers focus leaves the inverted view', !(await page.isChecked('#pyi-inverted')));
  await change(page, () => page.selectOption('#pyi-thread', 'all'));
}

async function checkFlame(page) {
  await page.click('#pyi-tab-flame');
  check('flame graph visible', await page.isVisible('#pyi-view-flame svg') && !(await page.isVisible('#pyi-view-tree')));
  const labels = await page.$$eval('#pyi-view-flame .pyi-frame text', (els) => els.map((e) => e.textContent));
  check('flame graph draws frames with names', labels.includes('compute') && labels.some((l) => l.startsWith('<script>')),
        labels);
  const frame = page.locator('#pyi-view-flame .pyi-frame', { has: page.locator('text', { hasText: /^compute$/ }) });
  const before = Number(await frame.locator('rect').getAttribute('width'));
  await frame.click();
  const zoomed = page.locator('#pyi-view-flame .pyi-frame', { has: page.locator('text', { hasText: /^compute$/ }) });
  const after = Number(await zoomed.locator('rect').getAttribute('width'));
  const ancestors = await page.$$eval('#pyi-view-flame .pyi-ancestor', (els) => els.length);
  check('clicking a frame zooms into it', after > before * 2 && ancestors >= 3, { before, after, ancestors, names: await page.$$eval('#pyi-view-flame .pyi-ancestor text', (els) => els.map((e) => e.textContent)) });
  await page.hover('#pyi-view-flame .pyi-frame:not(.pyi-ancestor)');
  const tip = await page.textContent('#pyi-tooltip');
  check('hovering a frame shows a tooltip', (await page.isVisible('#pyi-tooltip')) && tip.includes('compute'), tip);
}

async function checkTimeline(page) {
  await page.click('#pyi-tab-timeline');
  const lanes = await page.$$eval('#pyi-view-timeline .pyi-lane-name', (els) => els.map((e) => e.textContent));
  check('one timeline lane per thread', lanes.length === 2 && lanes[1].startsWith(THREAD_NAME), lanes);
  const painted = await page.$$eval('#pyi-view-timeline canvas', (cs) => cs.map((c) => {
    const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
    let n = 0;
    for (let i = 3; i < d.length; i += 4) if (d[i]) n++;
    return n;
  }));
  check('timeline lanes are drawn', painted.length === 2 && painted.every((n) => n > 1000), painted);
  const canvas = page.locator('#pyi-view-timeline canvas').first();
  const box = await canvas.boundingBox();
  await page.mouse.move(box.x + box.width * 0.3, box.y + 14 + 2 + 14 * 2 + 5);
  const tip = await page.textContent('#pyi-tooltip');
  check('hovering the timeline names the thread and frame', tip.startsWith('MainThread') && tip.includes('compute'), tip);
  await page.mouse.move(box.x + box.width * 0.3, box.y + 5);
  await page.mouse.wheel(0, -300);
  await page.waitForTimeout(100);
  const range = await page.textContent('#pyi-view-timeline .pyi-range');
  check('the wheel zooms the timeline', !range.startsWith('0 s \u2013 1.400 s'), range);
  await page.selectOption('#pyi-thread', '2');
  const one = await page.$$eval('#pyi-view-timeline .pyi-lane', (els) => els.length);
  check('thread filter applies to the timeline', one === 1, one);
  await page.selectOption('#pyi-thread', 'all');
  await page.click('#pyi-tab-tree');
}

// A report whose stacks outgrew the page's budget: the lightest were folded
// into their callers, and no time may be lost by that.
async function checkFolded(context, file, requests) {
  const page = await context.newPage();
  const errors = [];
  page.on('console', (m) => { if (m.type() === 'error' || m.type() === 'warning') errors.push(m.text()); });
  page.on('pageerror', (e) => errors.push(String(e)));
  await page.goto('file://' + file);
  await page.waitForSelector('body[data-ready="true"]', { timeout: 20000 });
  const r = await page.evaluate(() => ({
    folded: PYI.app.data.stacks.folded,
    tree: PYI.app.tree.root.total,
    threads: PYI.app.data.threads.reduce((a, t) => a + t.totals[2], 0),
    notice: document.getElementById('pyi-warnings').textContent,
  }));
  check('a large report folds its lightest stacks and says so', r.folded > 0 && r.notice.includes('folded'), r);
  check('folding keeps every nanosecond', r.tree === r.threads && r.tree > 0, r);
  await page.click('#pyi-tab-flame');
  await page.click('#pyi-tab-timeline');
  const lanes = await page.$$eval('#pyi-view-timeline canvas', (els) => els.length);
  check('the large report draws its timelines', lanes === 4, lanes);
  check('no console errors on the large report', errors.length === 0, errors);
  await page.close();
  return requests;
}

async function main() {
  const report = path.resolve(process.argv[2]);
  const wide = process.argv[3] ? path.resolve(process.argv[3]) : null;
  const userDir = fs.mkdtempSync(path.join(os.tmpdir(), 'pyinst-chromium-'));
  const context = await chromium.launchPersistentContext(userDir, {
    executablePath: '/usr/bin/chromium',
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
           '--disable-component-update', '--disable-sync', '--no-first-run'],
    viewport: { width: 1400, height: 900 },
  });
  const errors = [];
  const requests = [];
  context.on('request', (r) => requests.push(r.url()));
  try {
    const page = context.pages()[0] || (await context.newPage());
    page.on('console', (m) => { if (m.type() === 'error' || m.type() === 'warning') errors.push(m.text()); });
    page.on('pageerror', (e) => errors.push(String(e)));
    await page.goto('file://' + report);
    await page.waitForSelector('body[data-ready="true"]', { timeout: 10000 });
    await checkSafety(page);
    await checkExpandCollapse(page);
    await checkDetails(page);
    await checkSearch(page);
    await checkFilters(page);
    await checkInvertedAndFocus(page);
    await checkFlame(page);
    await checkTimeline(page);
    await checkSafety(page);
    if (wide) await checkFolded(context, wide, requests);
  } catch (err) {
    check('the test ran to its end', false, String(err && err.stack || err));
  } finally {
    await context.close();
    fs.rmSync(userDir, { recursive: true, force: true });
  }
  check('no console errors or warnings', errors.length === 0, errors);
  const urls = ['file://' + report].concat(wide ? ['file://' + wide] : []);
  check('no network request but the files themselves', requests.length >= 1 && requests.every((u) => urls.includes(u)),
        requests);
  console.log(`browser: ${passed} passed, ${failed} failed`);
  process.exit(failed ? 1 : 0);
}

main();
