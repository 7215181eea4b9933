// Opens pyinst's diff pages in Debian's chromium: a regression (one function
// slower), the same pair reversed (that function faster) and a page of the
// "browser" fixture against itself, whose names all try to run script.
// Checks the verdict, the flame graph and tree drawn with red for slower and
// blue for faster, zoom, tooltips, the widths switch, search, the ranked
// functions table, that names stay text, that no payload runs, that the
// console stays free of errors and that the pages fetch nothing.
// usage: node diff_test.js SLOWER.html FASTER.html HOSTILE.html
'use strict';
const fs = require('fs');
const os = require('os');
const path = require('path');
const { chromium } = require('playwright-core');

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

// A flame graph frame by its exact label.
function frame(page, name) {
  return page.locator('#pyi-view-flame .pyi-frame:not(.pyi-ancestor)', {
    has: page.locator('text', { hasText: new RegExp('^' + name + '$') }),
  }).first();
}

// Every drawn frame of a function, found by its node (labels are cut to fit):
// [{classes, fill, width}].
function framesOf(page, name) {
  return page.$$eval('#pyi-view-flame .pyi-frame:not(.pyi-ancestor)', (els, n) => {
    const app = PYI.diffApp;
    return els.filter((g) => {
      const node = app.tree.nodes[Number(g.getAttribute('data-id'))];
      return node.fn && app.profile.name(node.fn) === n;
    }).map((g) => ({ classes: g.getAttribute('class'), fill: g.querySelector('rect').getAttribute('fill'),
                     width: Number(g.querySelector('rect').getAttribute('width')) }));
  }, name);
}

async function open(context, file, errors) {
  const page = await context.newPage();
  page.on('console', (m) => { if (m.type() === 'error' || m.type() === 'warning') errors.push(m.text()); });
  page.on('pageerror', (e) => errors.push(String(e)));
  page.on('dialog', (d) => { errors.push('dialog: ' + d.message()); d.dismiss(); });
  await page.goto('file://' + file);
  await page.waitForSelector('body[data-ready="true"]', { timeout: 10000 });
  return page;
}

async function checkSlower(page) {
  const verdict = await page.textContent('#pyi-verdict');
  check('the verdict says regression', verdict.startsWith('Regression (exit status 1)'), verdict);
  check('the verdict has the regression colour', await page.$eval('#pyi-verdict', (e) => e.classList.contains('pyi-status-1')));
  check('the flame graph is the first view', await page.isVisible('#pyi-view-flame svg') &&
        !(await page.isVisible('#pyi-view-tree')));
  const target = await framesOf(page, 'compute_prices');
  check('the slower function is a slower frame', target.length >= 1 &&
        target.every((f) => f.classes.includes('pyi-slower')), target);
  check('slower frames are red', target.every((f) => f.fill.startsWith('hsl(8,')), target);
  const neutral = await frame(page, 'query').locator('rect').getAttribute('fill');
  check('unchanged frames are neutral', neutral.startsWith('hsl(40,'), neutral);
  const counts = await page.$$eval('#pyi-view-flame .pyi-frame', (els) => ({
    slower: els.filter((e) => e.classList.contains('pyi-slower')).length,
    faster: els.filter((e) => e.classList.contains('pyi-faster')).length, all: els.length }));
  check('only the changed paths are coloured', counts.slower >= 2 && counts.faster === 0 && counts.all > 10, counts);

  const widthOf = async (name) => (await framesOf(page, name)).reduce((sum, f) => sum + f.width, 0);
  const headWidth = await widthOf('compute_prices');
  await page.selectOption('#pyi-widths', 'base');
  const baseWidth = await widthOf('compute_prices');
  check('widths from the base side are narrower for the slower function', baseWidth < headWidth * 0.6,
        { baseWidth, headWidth });
  await page.selectOption('#pyi-widths', 'head');

  await page.hover('#pyi-view-flame .pyi-frame.pyi-slower:not(.pyi-ancestor)');
  const tip = await page.textContent('#pyi-tooltip');
  check('the tooltip gives the change with its interval', tip.includes('total share') && tip.includes('\u00b1') &&
        tip.includes('slower (significant)'), tip);
  await frame(page, 'handle_request').click();
  const ancestors = await page.$$eval('#pyi-view-flame .pyi-ancestor', (els) => els.length);
  check('clicking a frame zooms into it', ancestors >= 2, ancestors);
  const detail = await page.textContent('#pyi-details');
  check('clicking a frame shows its change in the details', detail.includes('handle_request') &&
        detail.includes('This call path'), detail);

  await page.click('#pyi-tab-tree');
  check('the tree is visible', await page.isVisible('#pyi-view-tree .pyi-row'));
  const rows = await page.$$eval('#pyi-view-tree .pyi-row', (els) => els.map((e) => ({
    name: e.querySelector('.pyi-name').textContent, slower: e.classList.contains('pyi-slower'),
    delta: (e.querySelector('.pyi-delta') || {}).textContent })));
  const slow = rows.find((r) => r.name === 'compute_prices' && r.slower);
  check('the tree marks the slower path with its increase', slow && slow.delta.startsWith('+'), rows);

  await page.fill('#pyi-search', 'prices');
  await page.press('#pyi-search', 'Enter');
  await page.waitForTimeout(50);
  const hits = await page.$$eval('#pyi-view-tree .pyi-row.pyi-hit .pyi-name', (els) => els.map((e) => e.textContent));
  check('search highlights matching rows', hits.length >= 1 && hits.every((h) => h === 'compute_prices'), hits);
  await page.fill('#pyi-search', '');
  await page.press('#pyi-search', 'Enter');

  await page.click('#pyi-tab-functions');
  const first = await page.$eval('.pyi-functions tr[data-function]', (tr) => ({
    name: tr.querySelector('.pyi-fn').textContent, fails: tr.classList.contains('pyi-fails'),
    slower: tr.classList.contains('pyi-slower') }));
  check('the functions table names the slower function first', first.name === 'compute_prices' &&
        first.fails && first.slower, first);
}

async function checkFaster(page) {
  const verdict = await page.textContent('#pyi-verdict');
  check('the reversed pair is no regression', verdict.startsWith('No regression (exit status 0)'), verdict);
  const target = await framesOf(page, 'compute_prices');
  check('the faster function is a faster frame', target.length >= 1 &&
        target.every((f) => f.classes.includes('pyi-faster')), target);
  check('faster frames are blue', target.every((f) => f.fill.startsWith('hsl(214,')), target);
}

async function checkHostile(page) {
  check('no payload ran', await page.evaluate(() => window.__pyiPwned) === undefined);
  const labels = await page.$$eval('#pyi-view-flame .pyi-frame text', (els) => els.map((e) => e.textContent));
  check('a <script> name is a flame graph label as text', labels.some((l) => l.startsWith('<script>')), labels);
  await page.click('#pyi-tab-functions');
  const names = await page.$$eval('.pyi-functions td.pyi-fn', (els) => els.map((e) => e.textContent));
  check('the functions table shows <script> names as text',
        names.includes('<script>window.__pyiPwned=1</script>'), names);
  const title = await page.textContent('#pyi-title');
  check('the program line shows its </script> as text', title.includes('</script><script>'), title);
  const counts = await page.evaluate(() => ({
    scripts: document.scripts.length, imgs: document.images.length,
    handlers: document.querySelectorAll('[onerror], [onload]').length }));
  check('no element came from trace data', counts.scripts === 2 && counts.imgs === 0 && counts.handlers === 0,
        counts);
}

async function main() {
  const files = process.argv.slice(2, 5).map((f) => path.resolve(f));
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
    await checkSlower(await open(context, files[0], errors));
    await checkFaster(await open(context, files[1], errors));
    await checkHostile(await open(context, files[2], errors));
  } catch (err) {
    check('the test ran to its end', false, String(err && err.stack || err));
  } finally {
    await context.close();
    fs.rmSync(userDir, { recursive: true, force: true });
  }
  check('no console errors, warnings or dialogs', errors.length === 0, errors);
  const urls = files.map((f) => 'file://' + f);
  check('no network request but the files themselves',
        requests.length >= 3 && requests.every((u) => urls.includes(u)), requests);
  console.log(`browser diff: ${passed} passed, ${failed} failed`);
  process.exit(failed ? 1 : 0);
}

main();
