/**
 * The file follower (`tail -F`): lines appended, partial last lines, overlong lines,
 * rotation by rename, copytruncate, and the position kept across restarts so that old
 * lines are never handed to the rules twice. Lines are written by this test (the
 * follower's behaviour does not depend on what they say).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, mkdtempSync, readFileSync, renameSync, truncateSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FileFollower } from '../../src/logs/follow';
import { LogState } from '../../src/logs/state';
import { LineSplitter } from '../../src/logs/lines';
import { createLogger } from '../../src/log';

const log = createLogger();

function setup() {
  const dir = mkdtempSync(join(tmpdir(), 'iplog-follow-'));
  return { dir, path: join(dir, 'auth.log'), statePath: join(dir, 'state', 'logpos.json') };
}

function follower(path: string, statePath: string, lines: string[]) {
  const state = new LogState(statePath, log);
  const f = new FileFollower(path, (l) => lines.push(l), { log, state, maxLine: 100 });
  return { f, state };
}

test('first start reads from the end; appended lines, a partial line completed later', async () => {
  const { path, statePath } = setup();
  writeFileSync(path, 'old 1\nold 2\n');
  const got: string[] = [];
  const { f, state } = follower(path, statePath, got);
  await f.poll();
  assert.deepEqual(got, [], 'history is not judged on a first start');
  appendFileSync(path, 'new 1\nnew 2 part');
  await f.poll();
  assert.deepEqual(got, ['new 1']);
  appendFileSync(path, 'ial\r\n');
  await f.poll();
  assert.deepEqual(got, ['new 1', 'new 2 partial']);
  await f.stop();
  state.flush();
  const saved = JSON.parse(readFileSync(statePath, 'utf8'));
  assert.equal(saved.files[path].pos, readFileSync(path).length);
});

test('restart: resumes after the last complete line (nothing read twice, nothing lost)', async () => {
  const { path, statePath } = setup();
  writeFileSync(path, 'a\n');
  const got: string[] = [];
  let { f, state } = follower(path, statePath, got);
  await f.poll();
  appendFileSync(path, 'b\nc-with-no-end');
  await f.poll();
  await f.stop();
  state.flush();
  // written while iplog was stopped
  appendFileSync(path, '-yet\nd\n');
  ({ f, state } = follower(path, statePath, got));
  await f.poll();
  assert.deepEqual(got, ['b', 'c-with-no-end-yet', 'd']);
  await f.stop();
});

test('rotation by rename: the old file is read to its end (last line without newline too), then the new one from 0', async () => {
  const { path, statePath } = setup();
  writeFileSync(path, '');
  const got: string[] = [];
  const { f } = follower(path, statePath, got);
  await f.poll();
  appendFileSync(path, 'one\ntwo');
  await f.poll();
  appendFileSync(path, '-end');
  renameSync(path, `${path}.1`);
  await f.poll(); // the path is missing: the old file is kept
  writeFileSync(path, 'three\n');
  await f.poll();
  assert.deepEqual(got, ['one', 'two-end', 'three']);
  assert.equal(f.stats.rotations, 1);
  await f.stop();
});

test('copytruncate: truncated (and even rewritten longer) files are read again from 0, once', async () => {
  const { path, statePath } = setup();
  writeFileSync(path, '');
  const got: string[] = [];
  const { f } = follower(path, statePath, got);
  await f.poll();
  appendFileSync(path, 'line A1\nline A2\n');
  await f.poll();
  truncateSync(path, 0);
  await f.poll();
  appendFileSync(path, 'B1\n');
  await f.poll();
  await f.poll();
  // truncated and rewritten beyond the old position between two polls
  truncateSync(path, 0);
  appendFileSync(path, 'line C1 is longer than before\nC2\n');
  await f.poll();
  await f.poll();
  assert.deepEqual(got, ['line A1', 'line A2', 'B1', 'line C1 is longer than before', 'C2']);
  assert.equal(f.stats.truncations, 2);
  await f.stop();
});

test('a file replaced while iplog was stopped is read from its start; a file that appears later too', async () => {
  const { dir, path, statePath } = setup();
  writeFileSync(path, 'x\n');
  const got: string[] = [];
  let { f, state } = follower(path, statePath, got);
  await f.poll();
  await f.stop();
  state.flush();
  renameSync(path, `${path}.1`);
  writeFileSync(path, 'fresh 1\n');
  ({ f, state } = follower(path, statePath, got));
  await f.poll();
  assert.deepEqual(got, ['fresh 1']);
  await f.stop();
  const later = join(dir, 'later.log');
  const got2: string[] = [];
  const g = new FileFollower(later, (l) => got2.push(l), { log, state: null });
  await g.poll();
  assert.equal(existsSync(later), false);
  writeFileSync(later, 'first\n');
  await g.poll();
  assert.deepEqual(got2, ['first']);
  await g.stop();
});

test('overlong lines are dropped whole and counted; the buffer stays bounded', () => {
  const got: string[] = [];
  const s = new LineSplitter((l) => got.push(l), 10);
  s.push(Buffer.from('short\n' + 'x'.repeat(25) + '\nok\n'));
  s.push(Buffer.from('y'.repeat(8)));
  s.push(Buffer.from('y'.repeat(8)));
  assert.ok(s.pendingBytes <= 10);
  s.push(Buffer.from('yyy tail from 203.0.113.9\nafter\n'));
  assert.deepEqual(got, ['short', 'ok', 'after']);
  assert.equal(s.overlong, 2);
});
