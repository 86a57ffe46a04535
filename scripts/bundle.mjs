#!/usr/bin/env node
// Start-up bundle (issue 10 item 3; docs/architecture.md "Start-up"): after tsc, packs the
// compiled program (ROOT/dist/src/main.js and every module it can require, commander
// included; the other npm dependencies stay in node_modules) into ROOT/dist/src/bundle/iplog.js
// with esbuild, then records V8's code cache for it (iplog.js.cache) by running a one-packet
// replay in the default (modern) profile through bin/iplog with IPLOG_CODE_CACHE_WRITE=1
// (recorded in compat, the modern code was left to compile at every start: 0.153 against
// 0.144 s for a default one-packet replay, compat 0.125 s either way; perf stat -r 20). bin/iplog loads the bundle (with
// the cache) when it is newer than dist/src/main.js, and dist/src/main.js otherwise, so a
// tsc run without this step never runs stale code; IPLOG_NO_BUNDLE=1 forces dist/.
//
//   node scripts/bundle.mjs [ROOT]     (ROOT: this checkout, or scripts/deb.mjs's package tree)
//
// Without esbuild (a production install without devDependencies) it says so and exits 0:
// the program then runs from dist/src as before, only slower to start.
// The bundle lives two levels below ROOT/dist like every compiled module (dist/src/DIR/), so
// the paths the modules compute from __dirname (the capture addon, package.json) still hold.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const self = join(dirname(fileURLToPath(import.meta.url)), '..');
const root = resolve(process.argv[2] ?? self);
const say = (m) => process.stderr.write(`bundle: ${m}\n`);
const main = join(root, 'dist', 'src', 'main.js');
const outDir = join(root, 'dist', 'src', 'bundle');
const out = join(outDir, 'iplog.js');
const cache = `${out}.cache`;
// bin/iplog compiles the file's text as it is: one function expression with CommonJS's
// parameters (what require() would wrap it in)
const WRAP_HEAD = '(function (exports, require, module, __filename, __dirname) {\n';
const WRAP_TAIL = '\n})';

if (!existsSync(main)) {
  say(`${main} is missing: run tsc first`);
  process.exit(1);
}
let esbuild;
try {
  esbuild = createRequire(join(self, 'package.json'))('esbuild');
} catch {
  say('esbuild is not installed (a devDependency): no bundle, iplog runs from dist/src (slower start-up)');
  rmSync(out, { force: true });
  rmSync(cache, { force: true });
  process.exit(0);
}

// Everything in package.json "dependencies" except commander stays external: pino starts
// its transports in worker threads by file name, unix-dgram and the capture addon are
// native, ip-num and prom-client load only in the modes that use them.
const pkg = JSON.parse(readFileSync(join(self, 'package.json'), 'utf8'));
const external = Object.keys(pkg.dependencies ?? {}).filter((d) => d !== 'commander');
// commander requires node:child_process at its top for executable subcommands (a program
// per subcommand), which iplog has none of; node:child_process loads net, dgram and the
// streams, milliseconds of every start-up (issue 10 item 3). The bundle's copy of commander
// loads it on first use instead. Another commander without that line is bundled as it is.
const CHILD_PROCESS_LINE = "const childProcess = require('node:child_process');";
const lazyChildProcess = {
  name: 'commander-lazy-child-process',
  setup(build) {
    build.onLoad({ filter: /[\\/]commander[\\/]lib[\\/]command\.js$/ }, (args) => {
      const text = readFileSync(args.path, 'utf8');
      if (!text.includes(CHILD_PROCESS_LINE)) {
        say(`${args.path}: no \`${CHILD_PROCESS_LINE}\` (another commander?): node:child_process stays loaded at start-up`);
        return undefined;
      }
      const lazy = "let childProcessModule;\nconst childProcess = { spawn: (...a) => (childProcessModule ??= require('node:child_process')).spawn(...a) };";
      return { contents: text.replace(CHILD_PROCESS_LINE, lazy), loader: 'js' };
    });
  },
};
mkdirSync(outDir, { recursive: true });
const tmp = `${out}.${process.pid}.tmp`;
const r = await esbuild.build({
  entryPoints: [main],
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  outfile: tmp,
  external,
  logLevel: 'error',
  legalComments: 'none',
  // identifiers and syntax minified too (669 -> 531 KiB, 90 fewer page faults per start:
  // the source is read into a buffer, then copied into a string). Nothing depends on the
  // names of the program's own functions or classes; stack traces (IPLOG_DEBUG) show the
  // minified ones, and IPLOG_NO_BUNDLE=1 runs dist/src with the real ones.
  minify: true,
  plugins: [lazyChildProcess],
});
if (r.errors.length > 0) process.exit(1);
// Two things keep V8 from copying the 1 MB source when bin/iplog compiles it: the file is
// the module wrapper's function expression itself (no string concatenation to flatten),
// and pure ASCII, read as latin1 into a one-byte string (esbuild leaves non-ASCII
// characters in comments and regular expressions; a \uXXXX escape means the same in a
// string, a regular expression or an identifier, and nothing in a comment).
const code = readFileSync(tmp, 'utf8').replace(/[^\x00-\x7f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
writeFileSync(tmp, `${WRAP_HEAD}${code}${WRAP_TAIL}`);
rmSync(cache, { force: true });
renameSync(tmp, out);

// The code cache: V8 accepts it only for the same V8 version and flags, and checks the
// source's length, not its text, so it is deleted before the bundle is replaced, made right
// after, and bin/iplog uses it only when it is not older than the bundle.
const dir = mkdtempSync(join(tmpdir(), 'iplog-bundle-'));
try {
  const pcap = join(dir, 'one.pcap');
  writeFileSync(pcap, onePacketPcap());
  const run = spawnSync(process.execPath, [join(root, 'bin', 'iplog'), '-r', pcap, '-N'], {
    env: { ...process.env, IPLOG_CODE_CACHE_WRITE: '1', IPLOG_NO_BUNDLE: '' },
    encoding: 'utf8',
  });
  if (run.status !== 0 || !existsSync(cache)) say(`no code cache (the replay said: ${run.status} ${run.stderr.trim()})`);
  else {
    // newer than the bundle even on a file system with coarse timestamps
    const t = statSync(out).mtimeMs / 1000 + 1;
    utimesSync(cache, t, t);
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
say(`${out} (${Math.round(statSync(out).size / 1024)} KiB)${existsSync(cache) ? `, code cache ${Math.round(statSync(cache).size / 1024)} KiB` : ''}`);

/** A classic pcap with one Ethernet/IPv4/TCP SYN (192.0.2.1:40000 -> 198.51.100.1:22). */
function onePacketPcap() {
  const frame = Buffer.alloc(60);
  frame.writeUInt16BE(0x0800, 12);
  const ip = 14;
  frame[ip] = 0x45;
  frame.writeUInt16BE(40, ip + 2);
  frame[ip + 8] = 64;
  frame[ip + 9] = 6;
  Buffer.from([192, 0, 2, 1, 198, 51, 100, 1]).copy(frame, ip + 12);
  let sum = 0;
  for (let i = 0; i < 20; i += 2) sum += frame.readUInt16BE(ip + i);
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  frame.writeUInt16BE(~sum & 0xffff, ip + 10);
  const tcp = ip + 20;
  frame.writeUInt16BE(40000, tcp);
  frame.writeUInt16BE(22, tcp + 2);
  frame[tcp + 12] = 0x50;
  frame[tcp + 13] = 0x02;
  frame.writeUInt16BE(1024, tcp + 14);
  const head = Buffer.alloc(24);
  head.writeUInt32LE(0xa1b2c3d4, 0);
  head.writeUInt16LE(2, 4);
  head.writeUInt16LE(4, 6);
  head.writeUInt32LE(65535, 16);
  head.writeUInt32LE(1, 20);
  const rec = Buffer.alloc(16);
  rec.writeUInt32LE(1704067200, 0);
  rec.writeUInt32LE(60, 8);
  rec.writeUInt32LE(60, 12);
  return Buffer.concat([head, rec, frame]);
}
