/**
 * Issue 10: the event object keeps one shape (one V8 map) for the whole run, so events
 * that escape to the ban manager or the JSON sink are never migrated at run time. The
 * run is in a child process with --allow-natives-syntax (test/helpers/event-shape-run.ts).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';

test('every event of a run, of every kind, IPv4 and IPv6, and past 2038, has one map at the end of the run (the last event’s)', () => {
  const child = path.join(__dirname, '..', 'helpers', 'event-shape-run.js');
  const r = spawnSync(process.execPath, ['--allow-natives-syntax', child], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const out = JSON.parse(r.stdout) as { events: number; differ: number; kinds: string[] };
  for (const k of ['tcp.connection_attempt', 'tcp.bogus_flags', 'udp.datagram', 'udp.traceroute', 'icmp.echo', 'icmp.redirect', 'scan.detected', 'scan.expired', 'ban.added', 'log.match']) {
    assert.ok(out.kinds.includes(k), `the run made ${k} (made: ${out.kinds.join(', ')})`);
  }
  assert.ok(out.events >= 20, `${out.events} events`);
  assert.equal(out.differ, 0, `${out.differ} of ${out.events} events have another map than the last`);
});
