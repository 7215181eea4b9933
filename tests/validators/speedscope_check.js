// SPDX-License-Identifier: MIT
// Loads a profile into the real speedscope app (the npm package's shipped
// bundle) running in jsdom, exactly as the app imports a dropped file, then
// makes the app export what it understood (Ctrl+S) and prints each profile's
// name and total weight. For .speedscope.json files it first validates
// against the schema shipped in the same package, plus the rules the schema
// cannot express. Exit 0 only if speedscope imported the file.
//
// usage: node speedscope_check.js FILE [--expect-total N] [--expect-profiles N]
'use strict';
const fs = require('fs');
const path = require('path');
const { JSDOM, VirtualConsole } = require('jsdom');

const release = path.join(__dirname, 'node_modules', 'speedscope', 'dist', 'release');

function fail(message) {
  console.error('FAIL: ' + message);
  process.exit(1);
}

function checkSchema(doc) {
  const Ajv = require('ajv');
  const schema = JSON.parse(fs.readFileSync(path.join(release, 'file-format-schema.json')));
  const ajv = new Ajv({ allErrors: true, strict: false });
  const validate = ajv.compile(schema);
  if (!validate(doc)) fail('schema: ' + ajv.errorsText(validate.errors));
  const frames = doc.shared.frames.length;
  for (const p of doc.profiles) {
    if (p.type !== 'sampled') continue;
    if (p.samples.length !== p.weights.length) fail(`${p.name}: samples/weights lengths differ`);
    for (const stack of p.samples)
      for (const f of stack)
        if (!Number.isInteger(f) || f < 0 || f >= frames) fail(`${p.name}: bad frame index ${f}`);
    for (const w of p.weights) if (!(w >= 0)) fail(`${p.name}: negative weight`);
    if (p.endValue < p.startValue) fail(`${p.name}: endValue < startValue`);
  }
}

async function importWithSpeedscope(file) {
  const bundle = fs.readdirSync(release).find((f) => /^speedscope-.*\.js$/.test(f));
  const logs = [];
  const vc = new VirtualConsole();
  for (const level of ['log', 'error', 'warn', 'info'])
    vc.on(level, (...args) => logs.push(`[${level}] ${args.join(' ')}`));
  // An http URL: jsdom gives file:// an opaque origin without localStorage.
  const dom = new JSDOM('<!DOCTYPE html><html><head><title>speedscope</title></head><body></body></html>', {
    url: 'http://localhost/index.html#localProfilePath=/dev/null',
    runScripts: 'outside-only', pretendToBeVisual: true, virtualConsole: vc,
  });
  const w = dom.window;
  let alerted = null, exported = null;
  w.alert = (m) => { alerted = String(m); };
  w.matchMedia = () => ({ matches: false, addListener() {}, removeListener() {},
                          addEventListener() {}, removeEventListener() {} });
  w.Element.prototype.scrollIntoView = () => {};
  w.TextDecoder = TextDecoder;
  w.TextEncoder = TextEncoder;
  w.URL.createObjectURL = (blob) => { blob.text().then((t) => { exported = t; }); return 'blob:x'; };
  w.URL.revokeObjectURL = () => {};
  w.eval(fs.readFileSync(path.join(release, bundle), 'utf8'));
  const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
  for (let i = 0; i < 100 && !w.speedscope; i++) await sleep(20);
  if (!w.speedscope) fail('the speedscope app did not start');
  const b64 = fs.readFileSync(file).toString('base64');
  w.speedscope.loadFileFromBase64(path.basename(file), b64);
  for (let i = 0; i < 500; i++) {
    if (alerted) fail('speedscope: ' + alerted);
    const failed = logs.find((l) => l.includes('Failed to load'));
    if (failed) fail(failed);
    if (w.document.title.endsWith(' - speedscope')) break;
    await sleep(20);
  }
  if (!w.document.title.endsWith(' - speedscope')) fail('speedscope never finished importing');
  w.document.dispatchEvent(new w.KeyboardEvent('keydown', { key: 's', ctrlKey: true, bubbles: true }));
  for (let i = 0; i < 200 && !exported; i++) await sleep(20);
  if (!exported) fail('speedscope did not export the profile');
  const result = { title: w.document.title, export: JSON.parse(exported) };
  w.close();
  return result;
}

async function main() {
  const args = process.argv.slice(2);
  const file = args[0];
  if (!file) fail('usage: node speedscope_check.js FILE [--expect-total N] [--expect-profiles N]');
  const option = (name) => { const i = args.indexOf(name); return i > 0 ? Number(args[i + 1]) : null; };
  if (file.endsWith('.speedscope.json')) checkSchema(JSON.parse(fs.readFileSync(file, 'utf8')));
  const { title, export: doc } = await importWithSpeedscope(file);
  let total = 0;
  for (const p of doc.profiles) {
    const weight = p.endValue - p.startValue;
    total += weight;
    console.log(`profile "${p.name}" unit=${p.unit} total=${weight}`);
  }
  console.log(`title "${title}" profiles=${doc.profiles.length} total=${total}`);
  const expectTotal = option('--expect-total');
  if (expectTotal !== null && Math.abs(total - expectTotal) > 1e-6 * Math.max(1, expectTotal))
    fail(`speedscope counted ${total}, expected ${expectTotal}`);
  const expectProfiles = option('--expect-profiles');
  if (expectProfiles !== null && doc.profiles.length !== expectProfiles)
    fail(`speedscope saw ${doc.profiles.length} profiles, expected ${expectProfiles}`);
  console.log('OK');
  process.exit(0);
}

main().catch((e) => fail(e && e.stack ? e.stack : String(e)));
