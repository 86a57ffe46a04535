/**
 * The bash completion (config/iplog.bash-completion) is generated from the option table
 * (src/cli/completion.ts, `npm run docs`): it offers every long name, alias and short
 * letter, completes known value lists, and bash accepts it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { OPTIONS } from '../../src/config/options';
import { renderBashCompletion } from '../../src/cli/completion';

const root = join(__dirname, '..', '..', '..');
const file = join(root, 'config', 'iplog.bash-completion');

test('config/iplog.bash-completion is the generator output (npm run docs)', () => {
  assert.equal(readFileSync(file, 'utf8'), renderBashCompletion());
});

test('it lists every option of the table', () => {
  const text = readFileSync(file, 'utf8');
  const words = new Set(/compgen -W "(--[^"]*)"/.exec(text)![1]!.split(' '));
  for (const spec of OPTIONS) {
    for (const name of spec.long) assert.ok(words.has(`--${name}`), `--${name}`);
    if (spec.kind === 'bool') assert.ok(words.has(`--${spec.long[0]}=`), `--${spec.long[0]}=`);
    if (spec.short !== undefined) assert.ok(words.has(`-${spec.short}`), `-${spec.short}`);
  }
});

/** What bash completes for the words of `line` (the last one is being typed). */
function complete(line: string[]): string[] {
  const script = `source ${JSON.stringify(file)}; COMP_WORDS=(${line.map((w) => `'${w}'`).join(' ')}); COMP_CWORD=${line.length - 1}; _iplog; printf '%s\\n' "\${COMPREPLY[@]}"`;
  const r = spawnSync('bash', ['-c', script], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout.split('\n').filter(Boolean);
}

test('bash completes names and values with it', () => {
  assert.deepEqual(complete(['iplog', '--test-c']), ['--test-config']);
  assert.deepEqual(complete(['iplog', '--profile', 'mo']), ['modern']);
  assert.ok(complete(['iplog', '--ban-backend', '']).includes('nftables'));
  assert.deepEqual(complete(['iplog', '--syslog-format', 'rfc5']), ['rfc5424']);
  assert.ok(complete(['iplog', '--log-']).includes('--log-traceroute='));
  assert.ok(complete(['iplog', '-i', 'l']).includes('lo'));
});
