#!/usr/bin/env node
// Writes docs/configuration.md from the option table (src/config/options.ts), through the
// compiled output in dist/ (run `npm run docs`, which builds first).
// `--check` only compares and exits 1 if the committed file is stale.
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
const { renderConfigurationDoc } = createRequire(import.meta.url)(compiled);
const target = resolve(root, 'docs/configuration.md');
const text = renderConfigurationDoc();

if (process.argv.includes('--check')) {
  const current = existsSync(target) ? readFileSync(target, 'utf8') : '';
  if (current !== text) {
    console.error('docs/configuration.md is out of date: run `npm run docs`');
    process.exit(1);
  }
  console.log('docs/configuration.md is up to date');
} else {
  writeFileSync(target, text);
  console.log(`wrote ${target}`);
}
