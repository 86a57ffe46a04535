#!/usr/bin/env node
// `npm run conformance`: replays the project's copy of the recorded corpus of iplog 2.2.3
// (pcaps/conformance/*.pcap, test/conformance/out/<capture>.<variant>.log and the
// variants' configuration files in test/conformance/conf/) through bin/iplog in the
// compat profile and compares the log text (time stamps and life-cycle lines removed)
// and the untimestamped diagnostics with what the original wrote. Cases listed in
// docs/compat-deviations.txt differ on purpose and are counted apart.
//
// Works in a plain clone (it needs only the build: `npm run build`). The variants' options
// are test/helpers/variants.ts's, through dist/. Options: --only REGEX, --diff.
// Exit status 0 when every case that is not a deviation matches; the last line is
//   "<passed> passed, <failed> failed".
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const only = new RegExp(args.includes('--only') ? args[args.indexOf('--only') + 1] : '.');
const showDiff = args.includes('--diff');
const bin = join(root, 'bin', 'iplog');
const variantsJs = join(root, 'dist', 'test', 'helpers', 'variants.js');
if (!existsSync(variantsJs) || !existsSync(join(root, 'dist', 'src', 'main.js'))) {
  console.error('conformance: build first (npm run build)');
  process.exit(2);
}
const { VARIANTS } = createRequire(import.meta.url)(variantsJs);
const outDir = join(root, 'test', 'conformance', 'out');
const pcapDir = join(root, 'pcaps', 'conformance');

const deviations = new Map();
for (const line of readFileSync(join(root, 'docs', 'compat-deviations.txt'), 'utf8').split('\n')) {
  const m = /^\s*([^#\s]\S*)\s+(.*)$/.exec(line);
  if (m) deviations.set(m[1], m[2]);
}

const STAMP = /^[A-Z][a-z]{2} [ 0-9][0-9] [0-9]{2}:[0-9]{2}:[0-9]{2} /;
const LIFECYCLE = /^(iplog started\.|Caught signal \d+, exiting\.)$/;
/** Log text in order, and the untimestamped lines as a sorted list (the file name in a parse error is ours). */
function split(text) {
  const log = [];
  const diag = [];
  for (const raw of text.split('\n')) {
    if (raw === '') continue;
    if (STAMP.test(raw)) {
      const line = raw.slice(16);
      if (!LIFECYCLE.test(line)) log.push(line);
    } else diag.push(raw.replace(/^\S+: Parse Error:/, 'CONF: Parse Error:'));
  }
  return { log, diag: diag.sort() };
}

let passed = 0;
let failed = 0;
let deviated = 0;
for (const file of readdirSync(outDir).sort()) {
  const m = /^(.+)\.([a-z_0-9]+)\.log$/.exec(file);
  if (!m || !(m[2] in VARIANTS) || !only.test(file)) continue;
  const pcap = join(pcapDir, `${m[1]}.pcap`);
  if (!existsSync(pcap)) continue;
  const r = spawnSync(process.execPath, [bin, '-r', pcap, '--profile', 'compat', ...VARIANTS[m[2]]], {
    encoding: 'utf8',
    env: { ...process.env, TZ: 'UTC', LC_ALL: 'C' },
    timeout: 60_000,
  });
  const want = split(readFileSync(join(outDir, file), 'utf8'));
  const got = split(r.stdout ?? '');
  const same = r.status === 0 && JSON.stringify(want) === JSON.stringify(got);
  if (deviations.has(file)) {
    deviated++;
    console.log(`DEVIATE ${file}  (${deviations.get(file)})${same ? '  [but matches: remove it from the list]' : ''}`);
  } else if (same) {
    passed++;
    console.log(`ok      ${file}`);
  } else {
    failed++;
    console.log(`FAIL    ${file}  (${r.status !== 0 ? `exit status ${r.status}` : 'output differs'})`);
    if (showDiff) {
      for (let i = 0; i < Math.max(want.log.length, got.log.length); i++) {
        if (want.log[i] !== got.log[i]) console.log(`    line ${i + 1}\n      want: ${want.log[i] ?? '(none)'}\n      got:  ${got.log[i] ?? '(none)'}`);
      }
      if (JSON.stringify(want.diag) !== JSON.stringify(got.diag)) console.log(`    diagnostics\n      want: ${JSON.stringify(want.diag)}\n      got:  ${JSON.stringify(got.diag)}`);
    }
  }
}
console.log(`conformance: ${deviated} documented deviations`);
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed === 0 && passed > 0 ? 0 : 1);
