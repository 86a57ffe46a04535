/**
 * Bounded fuzzing (docs/fuzzing.md): mutated pcap and pcapng files (structure, timestamps,
 * if_tsresol / if_tsoffset, packet header fields, file bytes) replayed through iplog's
 * entry point in text and JSON at once, with a fixed list of seeds so every run checks
 * the same files. Per case: no hang (10 s), status 0 or 1 only (no internal error, 70),
 * no stack trace, no NaN / undefined / Invalid Date in a diagnostic or an output line,
 * every JSON line valid against config/iplog-event.schema.json.
 * A failure names (seed, case), which `node dist/test/fuzz/run.js` reproduces.
 * The long run is `npm run fuzz`.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { fuzz } from './harness';

/** 3 seeds × 600 cases: about 15 s of CPU */
const SEEDS = [101, 202, 303];
const PER_SEED = 600;

test(`fuzz: ${SEEDS.length * PER_SEED} mutated captures, no hang, no internal error, no NaN, JSON inside the schema`, { timeout: 300_000 }, async () => {
  const rep = await fuzz(join(__dirname, '..', '..', '..'), SEEDS, PER_SEED, { parallel: 1, timeoutMs: 10_000, perWorker: PER_SEED });
  const shown = rep.failures.slice(0, 10).map((f) => `seed ${f.seed} case ${f.index}: ${f.problem}\n    input: ${f.what}`);
  assert.deepEqual(shown, []);
  assert.equal(rep.cases, SEEDS.length * PER_SEED);
  // the mutations reach both outcomes: clean replays with lines, and clear input errors
  assert.ok((rep.statuses['0'] ?? 0) > rep.cases / 4, JSON.stringify(rep.statuses));
  assert.ok((rep.statuses['1'] ?? 0) > rep.cases / 10, JSON.stringify(rep.statuses));
  assert.ok(rep.jsonLines > 1000, `only ${rep.jsonLines} JSON lines`);
});
