#!/usr/bin/env node
// Writes docs/configuration.md and config/iplog.conf from the option table
// (src/config/options.ts), and docs/detectors.md from the detector registry, through the compiled output in dist/ (run `npm run docs`, which
// builds first). `--check` only compares and exits 1 if a committed file is stale.
import { createRequire } from 'node:module';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const compiled = resolve(root, 'dist/src/config/options.js');
if (!existsSync(compiled)) {
  console.error(`gen-config-doc: ${compiled} is missing; build first (npx tsc -p tsconfig.json)`);
  process.exit(2);
}
const req = createRequire(import.meta.url);
const { renderConfigurationDoc, renderExampleConf } = req(compiled);
const { renderDetectorsDoc } = req(resolve(root, 'dist/src/detect/doc.js'));
const outputs = [
  [resolve(root, 'docs/detectors.md'), renderDetectorsDoc()],
  [resolve(root, 'docs/configuration.md'), renderConfigurationDoc()],
  [resolve(root, 'config/iplog.conf'), renderExampleConf()],
];

let stale = 0;
for (const [target, text] of outputs) {
  if (process.argv.includes('--check')) {
    const current = existsSync(target) ? readFileSync(target, 'utf8') : '';
    if (current !== text) {
      console.error(`${target} is out of date: run \`npm run docs\``);
      stale++;
    }
  } else {
    writeFileSync(target, text);
    console.log(`wrote ${target}`);
  }
}
process.exit(stale ? 1 : 0);
