// SPDX-License-Identifier: MIT
// Checks folded ("collapsed") stacks against the strictest consumers'
// grammar: every line is "frame;frame;... COUNT" with a non-empty frame list,
// no empty frame, exactly one space before an integer count (speedscope and
// Pyroscope want integers), no control characters, lines under 64 KiB
// (Pyroscope's scanner), no duplicate stacks. Prints the line count and total.
//
// usage: node folded_check.js FILE [--expect-total N] [--expect-lines N]
'use strict';
const fs = require('fs');

function fail(message) {
  console.error('FAIL: ' + message);
  process.exit(1);
}

const args = process.argv.slice(2);
const text = fs.readFileSync(args[0], 'utf8');
if (text.length && !text.endsWith('\n')) fail('the last line has no newline');
const lines = text.split('\n').slice(0, -1);
const seen = new Set();
let total = 0;
lines.forEach((line, i) => {
  const at = `line ${i + 1}`;
  const m = /^(.*[^ ]) (\d+)$/.exec(line);
  if (!m) fail(`${at}: not "stack COUNT": ${JSON.stringify(line.slice(0, 80))}`);
  if (/[\x00-\x1f\x7f]/.test(line)) fail(`${at}: control character`);
  if (Buffer.byteLength(line) >= 65536) fail(`${at}: longer than 64 KiB`);
  if (m[1].split(';').some((f) => f.length === 0)) fail(`${at}: empty frame`);
  if (seen.has(m[1])) fail(`${at}: duplicate stack`);
  seen.add(m[1]);
  const count = Number(m[2]);
  if (!(count > 0)) fail(`${at}: count must be positive`);
  total += count;
});
console.log(`lines=${lines.length} total=${total}`);
for (let i = 1; i < args.length; i += 2) {
  const want = Number(args[i + 1]);
  if (args[i] === '--expect-total' && total !== want) fail(`total ${total}, expected ${want}`);
  if (args[i] === '--expect-lines' && lines.length !== want) fail(`${lines.length} lines, expected ${want}`);
}
console.log('OK');
