#!/usr/bin/env node
// Writes docs/configuration.md, config/iplog.conf and the man pages docs/man/iplog.8 and
// docs/man/iplog.conf.5 from the option table (src/config/options.ts, src/config/man.ts), docs/detectors.md from the detector registry,
// docs/ban-backends.md from the ban backend registry (src/ban/doc.ts), the bash completion
// config/iplog.bash-completion (src/cli/completion.ts), through the compiled output in dist/ (run `npm run docs`, which
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
const { renderIplog8, renderIplogConf5 } = req(resolve(root, 'dist/src/config/man.js'));
const { renderBanBackendsDoc } = req(resolve(root, 'dist/src/ban/doc.js'));
const { renderBashCompletion } = req(resolve(root, 'dist/src/cli/completion.js'));
const { version } = JSON.parse(readFileSync(resolve(root, 'package.json'), 'utf8'));
const outputs = [
  [resolve(root, 'docs/detectors.md'), renderDetectorsDoc()],
  [resolve(root, 'docs/configuration.md'), renderConfigurationDoc()],
  [resolve(root, 'config/iplog.conf'), renderExampleConf()],
  [resolve(root, 'docs/man/iplog.8'), renderIplog8(version)],
  [resolve(root, 'docs/man/iplog.conf.5'), renderIplogConf5(version)],
  [resolve(root, 'docs/ban-backends.md'), renderBanBackendsDoc()],
  [resolve(root, 'config/iplog.bash-completion'), renderBashCompletion()],
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
