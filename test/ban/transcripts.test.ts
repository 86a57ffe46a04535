/**
 * Every registered ban backend renders exactly the argv of its transcript
 * (test/ban/transcripts/<name>.txt; STYLE "Adding a ban backend", fail2ban's
 * testJailsActions): every verb, both families, documentation addresses (192.0.2.0/24,
 * 2001:db8::/32), default parameters (the command backend: its documented example).
 * A backend without a transcript fails. Rewrite with UPDATE_TRANSCRIPTS=1 and review.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync, mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { BACKENDS } from '../../src/ban/index';
import { resolveParams } from '../../src/ban/backend';
import { renderTranscript as transcript, renderBanBackendsDoc } from '../../src/ban/doc';

const dir = join(__dirname, '..', '..', '..', 'test', 'ban', 'transcripts');
const update = process.env.UPDATE_TRANSCRIPTS === '1';

for (const def of BACKENDS) {
  test(`transcript of the ${def.name} backend`, () => {
    const file = join(dir, `${def.name}.txt`);
    const got = transcript(def);
    if (update) {
      mkdirSync(dir, { recursive: true });
      writeFileSync(file, got);
    }
    assert.ok(existsSync(file), `backend ${def.name} has no transcript test/ban/transcripts/${def.name}.txt (UPDATE_TRANSCRIPTS=1 writes it; review it)`);
    assert.equal(got, readFileSync(file, 'utf8'));
  });

  test(`the ${def.name} backend renders argv arrays, never shell`, () => {
    const p = resolveParams(def, def.example ?? {});
    if (def.service) {
      // a service backend (crowdsec) runs no command: its requests name the address
      for (const verb of [def.start, def.ban, def.unban, def.flush, def.stop, def.check]) assert.deepEqual(verb(p, '2001:db8::7', 6, 60), []);
      assert.match(def.requests?.(p) ?? '', /"value": "2001:db8::7"/);
      return;
    }
    const all = [
      ...def.start(p),
      ...def.ban(p, '192.0.2.7', 4, 60),
      ...def.ban(p, '2001:db8::7', 6, 60),
      ...def.unban(p, '192.0.2.7', 4),
      ...def.flush(p),
      ...def.stop(p),
      ...def.check(p),
      ...(def.list?.(p) ?? []),
    ];
    for (const c of all) {
      assert.ok(c.argv.length > 0);
      assert.ok(c.argv.every((a) => typeof a === 'string' && !a.includes('\0')));
      assert.notEqual(c.argv[0], 'sh', 'no shell');
      assert.notEqual(c.argv[0], 'bash', 'no shell');
    }
    // the address is one word (or inside one set-element word), never split or spliced
    const ban = def.ban(p, '2001:db8::7', 6, 60);
    assert.ok(ban.some((c) => c.argv.some((a) => a === '2001:db8::7' || a.includes(' 2001:db8::7 ') || a.includes('{ 2001:db8::7'))));
  });
}

test('no transcript without a backend', () => {
  const names = new Set(BACKENDS.map((b) => `${b.name}.txt`));
  assert.deepEqual(readdirSync(dir).filter((f) => !names.has(f)), []);
});

test('docs/ban-backends.md is the registry rendering (npm run docs)', () => {
  const doc = readFileSync(join(__dirname, '..', '..', '..', 'docs', 'ban-backends.md'), 'utf8');
  assert.equal(doc, renderBanBackendsDoc());
});
