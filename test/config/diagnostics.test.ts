/**
 * Configuration diagnostics never echo a file that is not a configuration file, never
 * print raw control bytes, and name the line of every problem (issue: `--config
 * /etc/shadow` printed its password hashes; `promisc =5` failed without a line number).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseConfig, printable, DIAG_MAX, NOT_CONFIG_AFTER } from '../../src/config/conf-parser';
import { defaultSettings } from '../../src/config/options';
import { oracleEnv } from './fixtures';

function parse(text: string): { diags: string[]; changed: boolean } {
  const s = defaultSettings();
  const before = JSON.stringify(s);
  const diags: string[] = [];
  parseConfig(text, '/etc/shadow', s, (m) => diags.push(m), oracleEnv());
  return { diags, changed: JSON.stringify(s) !== before };
}

const SHADOW = ['root:$y$j9T$secrethash:19000:0:99999:7:::', 'daemon:*:19000:0:99999:7:::', 'bin:*:19000:0:99999:7:::'];

test('a shadow-like file is said not to be a configuration file, and none of its text is printed', () => {
  for (const n of [3, NOT_CONFIG_AFTER, 40]) {
    const lines = Array.from({ length: n }, (_, i) => SHADOW[i % SHADOW.length]!);
    const r = parse(lines.join('\n') + '\n');
    assert.equal(r.diags.length, 1, r.diags.join('\n'));
    assert.match(r.diags[0]!, /^\/etc\/shadow: not an iplog configuration file \(\d+ lines that are no iplog statements, none that is one\); nothing read from it\.$/);
    assert.doesNotMatch(r.diags.join('\n'), /secrethash|daemon|19000/);
    assert.equal(r.changed, false);
  }
});

test('a real configuration with a typo still gets its diagnostics in order, with line numbers', () => {
  const r = parse('set verbose true\nfoo bar\nset nosuch true\n');
  assert.deepEqual(r.diags, ['[line 2] Invalid rule: foo', '[line 3] Invalid "set" target: nosuch']);
  // invalid lines before the first statement are printed once one comes
  const late = parse('oops\nset verbose true\n');
  assert.deepEqual(late.diags, ['[line 1] Invalid rule: oops']);
});

test('control bytes are escaped and long quotes cut', () => {
  const r = parse('set verbose true\nfoo\x1b[2J\x07\x9b31m\n');
  assert.deepEqual(r.diags, ['[line 2] Invalid rule: foo\\x1b[2J\\x07\\x9b31m']);
  const long = parse(`set verbose true\n${'x'.repeat(5000)}\n`);
  assert.equal(long.diags[0]!.length, DIAG_MAX);
  assert.ok(long.diags[0]!.endsWith('...'));
  assert.equal(printable('a\u0000b\u007f'), 'a\\x00b\\x7f');
});

test('promisc with an invalid network: the run refuses it and names the line', () => {
  const dir = mkdtempSync(join(tmpdir(), 'iplog-diag-'));
  try {
    const conf = join(dir, 'iplog.conf');
    writeFileSync(conf, 'set verbose true\npromisc =5\n');
    const root = join(__dirname, '..', '..', '..');
    const run = spawnSync(process.execPath, [join(root, 'bin', 'iplog'), '--config', conf, '-N', '-r', join(root, 'pcaps', 'conformance', 'nmap_sT_small.pcap')], { encoding: 'utf8' });
    assert.equal(run.status, 1);
    assert.equal(run.stderr, `iplog: invalid network "=5" (promisc on line 2 of ${conf})\n`);
    // on the command line there is no line to name
    const cli = spawnSync(process.execPath, [join(root, 'bin', 'iplog'), '--config', conf, '-a', '=6', '-N', '-r', join(root, 'pcaps', 'conformance', 'nmap_sT_small.pcap')], { encoding: 'utf8' });
    assert.equal(cli.stderr, 'iplog: invalid network "=6"\n');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
