// SPDX-License-Identifier: MIT
// Decodes a gzipped pprof profile with pprof-format (Datadog's profile.proto
// implementation) and checks the rules of Go's Profile.CheckValid plus ours:
// string_table[0] is "", ids are nonzero and unique, every reference
// resolves, each sample has one value per sample type, and no function sets
// system_name (pprof would "demangle" <module> into <unknown>). Prints the
// sample types, the totals and the heaviest leaf functions.
//
// usage: node pprof_check.js FILE.pb.gz [--expect-total TYPE=N]... [--expect-function NAME]...
'use strict';
const fs = require('fs');
const zlib = require('zlib');
const { Profile } = require('pprof-format');

function fail(message) {
  console.error('FAIL: ' + message);
  process.exit(1);
}

function main() {
  const args = process.argv.slice(2);
  let bytes = fs.readFileSync(args[0]);
  if (bytes[0] !== 0x1f || bytes[1] !== 0x8b) fail('not gzipped');
  bytes = zlib.gunzipSync(bytes);
  const p = Profile.decode(bytes);
  const strings = p.stringTable.strings;
  const str = (i) => {
    const n = Number(i);
    if (!(n >= 0 && n < strings.length)) fail(`string index ${n} out of range`);
    return strings[n];
  };
  if (strings[0] !== '') fail('string_table[0] is not ""');
  const types = p.sampleType.map((t) => `${str(t.type)}/${str(t.unit)}`);
  if (!types.length) fail('no sample types');
  const unique = (list, what) => {
    const ids = new Map();
    for (const x of list) {
      const id = Number(x.id);
      if (!id) fail(`${what} with id 0`);
      if (ids.has(id)) fail(`duplicate ${what} id ${id}`);
      ids.set(id, x);
    }
    return ids;
  };
  const functions = unique(p.function, 'function');
  const locations = unique(p.location, 'location');
  for (const f of p.function) {
    str(f.name);
    if (Number(f.systemName)) fail(`function ${str(f.name)} sets system_name`);
  }
  for (const l of p.location)
    for (const line of l.line)
      if (!functions.has(Number(line.functionId))) fail(`location ${l.id}: unknown function`);
  const totals = types.map(() => 0);
  const leaf = new Map();
  for (const s of p.sample) {
    if (s.value.length !== types.length) fail('a sample has the wrong number of values');
    if (!s.locationId.length) fail('a sample without locations');
    for (const id of s.locationId) if (!locations.has(Number(id))) fail(`unknown location ${id}`);
    s.value.forEach((v, i) => { totals[i] += Number(v); });
    const loc = locations.get(Number(s.locationId[0]));
    const name = str(functions.get(Number(loc.line[0].functionId)).name);
    leaf.set(name, (leaf.get(name) || 0) + Number(s.value[0]));
    for (const label of s.label) str(label.key);
  }
  console.log(`sample types: ${types.join(', ')}; samples: ${p.sample.length}; ` +
              `functions: ${p.function.length}; locations: ${p.location.length}`);
  console.log('totals: ' + types.map((t, i) => `${t}=${totals[i]}`).join(' '));
  const top = [...leaf.entries()].sort((a, b) => b[1] - a[1]).slice(0, 5);
  console.log('top leaves by first value: ' + top.map(([n, v]) => `${n}=${v}`).join(', '));
  for (let i = 1; i < args.length; i += 2) {
    if (args[i] === '--expect-total') {
      const [type, value] = args[i + 1].split('=');
      const k = types.indexOf(type);
      if (k < 0) fail(`no sample type ${type}`);
      if (totals[k] !== Number(value)) fail(`${type} total ${totals[k]}, expected ${value}`);
    } else if (args[i] === '--expect-function') {
      if (!p.function.some((f) => str(f.name) === args[i + 1]))
        fail(`no function named ${args[i + 1]}`);
    } else fail(`unknown option ${args[i]}`);
  }
  console.log('OK');
}

main();
