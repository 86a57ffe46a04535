/**
 * `npm run conformance` runs from the project's own copy of the recorded corpus
 * (pcaps/conformance/, test/conformance/), so a plain clone without ../shared can run it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

const root = join(__dirname, '..', '..', '..');

test('npm run conformance is scripts/conformance.mjs, which needs nothing outside the project', () => {
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
  assert.equal(pkg.scripts.conformance, 'node scripts/conformance.mjs');
  assert.doesNotMatch(readFileSync(join(root, 'scripts', 'conformance.mjs'), 'utf8'), /\.\.\/shared/);
});

test('it replays the recorded runs and compares them (a subset here; the whole corpus is test/golden/conformance.test.ts)', () => {
  const r = spawnSync(process.execPath, [join(root, 'scripts', 'conformance.mjs'), '--only', '^crafted_filters\\.'], { encoding: 'utf8', cwd: '/', timeout: 120_000 });
  assert.equal(r.status, 0, r.stdout + r.stderr);
  const lines = r.stdout.trim().split('\n');
  assert.equal(lines.at(-1), '5 passed, 0 failed');
  assert.ok(lines.includes('ok      crafted_filters.conf_filters.log'));
  assert.ok(lines.some((l) => l.startsWith('DEVIATE crafted_filters.conf_errors.log')), 'deviations counted apart');
});
