/**
 * Default ban weights (src/ban/config.ts DEFAULT_WEIGHTS): every modern detector that names
 * an attacker has a decided weight, so a new detector cannot silently never ban (or ban by
 * accident through `scan.detected`); the ACK and Maimon scans ban as the other scans do,
 * through the real CLI on the project's own corpus.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { DEFAULT_WEIGHTS } from '../../src/ban/config';
import { MODERN_DETECTORS } from '../../src/detect/modern/index';

const root = join(__dirname, '..', '..', '..');
const BIN = join(root, 'bin', 'iplog');

test('every modern detector naming an attacker has a default weight; aggregates and reflectors have none that bans', () => {
  for (const d of MODERN_DETECTORS) {
    const key = d.kind ?? d.name;
    if (d.role === 'attacker') assert.ok(Object.hasOwn(DEFAULT_WEIGHTS, key), `${d.name}: no default ban weight for '${key}'`);
    else assert.ok((DEFAULT_WEIGHTS[key] ?? 0) === 0, `${d.name} (${d.role}) must not ban by default`);
  }
  for (const k of ['ack-scan', 'maimon-scan', 'port-sweep', 'syn-scan', 'udp-scan']) assert.equal(DEFAULT_WEIGHTS[k], 10, k);
  for (const k of ['ping-sweep', 'arp-sweep', 'frag.tiny']) assert.equal(DEFAULT_WEIGHTS[k], 0, k);
});

for (const [cap, title] of [
  ['nmap-sA', 'ACK scan'],
  ['nmap-sM', 'Maimon scan'],
] as const) {
  const pcap = join(root, 'pcaps', 'modern', `${cap}.pcap`);
  test(`${cap} replayed with dry-run bans: the scanner gets a protected ban on its ${title}`, { skip: existsSync(pcap) ? false : `${pcap} missing (made by test/tools/make-modern-corpus.ts)` }, () => {
    const r = spawnSync(process.execPath, [BIN, '--config', '/dev/null', '--profile', 'modern', '-r', pcap, '-N', '-m', '--ban-backend', 'dry-run'], {
      encoding: 'utf8',
      env: { ...process.env, TZ: 'UTC', LC_ALL: 'C' },
      timeout: 60_000,
    });
    assert.equal(r.status, 0, r.stderr);
    const bans = r.stdout.split('\n').filter((l) => l.includes('BAN: banned'));
    assert.equal(bans.length, 1, r.stdout);
    assert.match(bans[0]!, new RegExp(`BAN: banned 198\\.51\\.100\\.10 for 600 seconds \\(TCP: ${title}; score 10; spoofable evidence, protected\\)$`));
  });
}
