/**
 * The stray-inspector check (src/cli/usr1.ts inspectorUrl(), and its copy in bin/iplog)
 * reads the inspector's address from its binding through process.binding instead of
 * loading node:inspector (which loads worker_threads and the streams: start-up time,
 * issue 10 item 3). These tests open a real inspector on 127.0.0.1 with an ephemeral port
 * (`--inspect=127.0.0.1:0`, what a SIGUSR1 during Node's bootstrap would open on 9229) and
 * check that the binding gives node:inspector's answer, that the inspector is closed and
 * reported, and that nothing warns under --pending-deprecation (where process.binding warns
 * and node:inspector is asked instead).
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

const root = join(__dirname, '..', '..', '..');
const USR1 = join(root, 'dist', 'src', 'cli', 'usr1.js');
const BIN = join(root, 'bin', 'iplog');
const PCAP = join(root, 'pcaps', 'conformance', 'crafted_filters.pcap');

const PROBE = `
const u = require(${JSON.stringify(USR1)});
const viaUsr1 = u.inspectorUrl();
const viaModule = require('node:inspector').url();
const reports = [];
const closed = u.closeStrayInspector((t) => reports.push(t));
process.stdout.write(JSON.stringify({ viaUsr1, viaModule, closed, reports, after: require('node:inspector').url() ?? null }));
`;

function probe(nodeArgs: string[]): { viaUsr1?: string; viaModule?: string; closed: boolean; reports: string[]; after: string | null; stderr: string } {
  const r = spawnSync(process.execPath, [...nodeArgs, '-e', PROBE], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return { ...(JSON.parse(r.stdout) as { viaUsr1?: string; viaModule?: string; closed: boolean; reports: string[]; after: string | null }), stderr: r.stderr };
}

describe('inspectorUrl / closeStrayInspector', () => {
  it('no inspector: undefined, nothing closed', () => {
    const p = probe([]);
    assert.equal(p.viaUsr1, undefined);
    assert.equal(p.viaModule, undefined);
    assert.equal(p.closed, false);
    assert.deepEqual(p.reports, []);
  });

  for (const extra of [[], ['--pending-deprecation']]) {
    it(`an open inspector is found, closed and reported${extra.length > 0 ? ' (--pending-deprecation: no warning)' : ''}`, () => {
      const p = probe([...extra, '--inspect=127.0.0.1:0']);
      assert.match(p.viaUsr1 ?? '', /^ws:\/\/127\.0\.0\.1:\d+\//);
      assert.equal(p.viaUsr1, p.viaModule);
      assert.equal(p.closed, true);
      assert.equal(p.reports.length, 1);
      assert.ok(p.reports[0]!.includes(p.viaUsr1!), p.reports[0]);
      assert.equal(p.after, null, 'closed');
      assert.doesNotMatch(p.stderr, /DEP0111|DeprecationWarning/);
    });
  }
});

describe('bin/iplog closes an inspector open before it runs', () => {
  for (const extra of [[], ['--pending-deprecation']]) {
    it(`reports and closes it, the replay runs${extra.length > 0 ? ' (--pending-deprecation: no warning)' : ''}`, () => {
      const r = spawnSync(process.execPath, [...extra, '--inspect=127.0.0.1:0', BIN, '--profile', 'compat', '-r', PCAP, '-N', '-q'], { encoding: 'utf8' });
      assert.equal(r.status, 0, r.stderr);
      assert.match(r.stderr, /iplog: a SIGUSR1 during start-up opened Node's inspector \(ws:\/\/127\.0\.0\.1:\d+\/[^)]*\); closed it\n/);
      assert.equal(r.stderr.match(/closed it/g)?.length, 1, 'reported once (bin/iplog; main() then finds it closed)');
      assert.doesNotMatch(r.stderr, /DEP0111|DeprecationWarning/);
      assert.ok(r.stdout.length > 0, 'the replay wrote its lines');
    });
  }
});
