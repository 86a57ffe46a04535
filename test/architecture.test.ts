/**
 * Structural rules of the code base (STYLE.md habits 1 and 3):
 *  - decoders, detectors and the pipeline never read the wall clock nor set timers: time
 *    is packet time;
 *  - docs/detectors.md is the registry's rendering.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { renderDetectorsDoc } from '../src/detect/doc';

const root = join(__dirname, '..', '..');
const WALL = /\b(Date\.now|new Date\(\)|performance\.now|process\.hrtime|setTimeout|setInterval|setImmediate)\b/;

test('no wall clock in decode/, detect/, rules/ and pipeline.ts', () => {
  const files = ['src/pipeline.ts'];
  for (const d of ['src/decode', 'src/detect', 'src/rules']) for (const f of readdirSync(join(root, d))) if (f.endsWith('.ts')) files.push(`${d}/${f}`);
  const offenders = files.filter((f) =>
    readFileSync(join(root, f), 'utf8')
      .split('\n')
      .some((l) => !/^\s*(\*|\/\/)/.test(l) && WALL.test(l)),
  );
  assert.deepEqual(offenders, []);
});

test('docs/detectors.md is the registry rendering (npm run docs)', () => {
  assert.equal(readFileSync(join(root, 'docs', 'detectors.md'), 'utf8'), renderDetectorsDoc());
});
