/**
 * The integrations are tested on the corpus (corpus.ts); this checks that the corpus
 * knows every detection title the engine can write, so that a new line form cannot reach
 * the field untested by fail2ban, OSSEC, Wazuh and CrowdSec:
 *  - every title of the compat and modern detector registries and every title the modern
 *    engine writes in their place (`UDP: port sweep`, `ICMPv6: neighbour sweep`,
 *    `TCP: port scan`; read from src/detect/modern/engine.ts) is in the catalogue and has
 *    a documented form in the corpus, with the address a consumer must take;
 *  - the neighbour sweep's lines as the engine writes them (ICMPv6 neighbour solicitations
 *    for 16 protected targets) are in the corpus word for word, and parse to their source.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DETECTORS } from '../../src/detect/index';
import { MODERN_DETECTORS } from '../../src/detect/modern/index';
import { Harness } from '../helpers/engine';
import { ipv6, icmp6, ip6bytes } from '../helpers/packets';
import { MODERN_TITLES, SCAN_TITLES, parseLine } from './catalogue';
import { ROOT, modernFormEntries } from './corpus';

/** Titles written: the registries', and the literal titles the modern engine writes instead. */
function engineTitles(): Set<string> {
  const titles = new Set<string>();
  for (const d of [...DETECTORS, ...MODERN_DETECTORS]) if (d.title.includes(': ')) titles.add(d.title);
  const src = readFileSync(join(ROOT, 'src', 'detect', 'modern', 'engine.ts'), 'utf8');
  for (const m of src.matchAll(/title = '([^']+)'/g)) titles.add(m[1]!);
  return titles;
}

test('every detection title the engine writes is in the catalogue and in the documented forms the integrations are tested on', () => {
  const titles = engineTitles();
  assert.ok(titles.has('ICMPv6: neighbour sweep') && titles.has('UDP: port sweep') && titles.has('TCP: port scan'), [...titles].join(', '));
  const known = new Set([...SCAN_TITLES, ...MODERN_TITLES]);
  const forms = modernFormEntries();
  const missing: string[] = [];
  for (const t of titles) {
    if (!known.has(t)) missing.push(`${t}: not in the catalogue (test/integrations/catalogue.ts)`);
    // the compat titles are covered by the golden outputs; the modern ones need a documented form
    else if (!SCAN_TITLES.includes(t) && !forms.some((e) => e.parsed?.title === t && e.parsed.kind === 'scan.detected')) missing.push(`${t}: no documented form in corpus.ts`);
  }
  assert.deepEqual(missing, []);
});

test('the neighbour sweep as the engine writes it: in the corpus word for word, its source extracted', async () => {
  const h = new Harness({}, { profile: 'modern', hashSeed: 1, replayFile: 'synthetic', home: ['2001:db8:5::/64'] });
  const ns = (src: string, target: string): Buffer => ipv6({ src, dst: 'ff02::1:ff00:1', nh: 58, hlim: 255 }, icmp6(135, 0, Buffer.concat([Buffer.alloc(4), ip6bytes(target)])));
  for (let i = 1; i <= 16; i++) h.feed(1000 + i * 0.1, ns('2001:db8:5::99', `2001:db8:5::${i.toString(16)}`));
  const lines = (await h.finish()).filter((l) => l.startsWith('ICMPv6: neighbour sweep'));
  assert.equal(lines.length, 2, lines.join('\n'));
  const corpus = new Map(modernFormEntries().map((e) => [e.text, e]));
  for (const l of lines) {
    const e = corpus.get(l);
    assert.ok(e !== undefined, `not in corpus.ts: ${l}`);
    assert.equal(e.addr, '2001:db8:5::99', l);
    assert.equal(parseLine(l)?.src, '2001:db8:5::99');
  }
});
