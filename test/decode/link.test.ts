/** Link-layer decoders: byte-array cases per link type, plus the shared contract. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Anomalies, AnomalyName } from '../../src/decode/anomalies';
import { ipv4Offset, isSupportedLinktype, linktypeName } from '../../src/decode/link';
import { LINKTYPE } from '../../src/capture/source';

const IP = [0x45, 0, 0, 20, 0, 0, 0, 0, 64, 6, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2];
const MACS = new Array(12).fill(0x11);

/**
 * Decode `frame` placed at offset 5 of a larger buffer whose bytes after the frame are
 * 0x08 0x00 0x45 (so reading past caplen would wrongly succeed). Returns the offset relative
 * to the frame (or -1) and the counters that moved.
 */
function run(linktype: number, frame: number[]): { r: number; moved: [string, number][] } {
  const buf = Buffer.from([9, 9, 9, 9, 9, ...frame, 0x08, 0x00, 0x45, 0x08, 0x00, 0x45, 0, 0, 0, 0, 0, 0, 0, 0]);
  const an = new Anomalies();
  const r = ipv4Offset(buf, 5, frame.length, linktype, an);
  if (r >= 0) {
    assert.ok(r >= 5 && r <= 5 + frame.length, `offset ${r} outside the frame`);
    assert.deepEqual(an.nonZero(), [], 'success counts nothing');
    return { r: r - 5, moved: [] };
  }
  assert.equal(r, -1);
  const moved = an.nonZero();
  assert.equal(moved.length, 1, 'a failure counts exactly one thing');
  assert.equal(moved[0]![1], 1);
  return { r, moved };
}

function ok(linktype: number, frame: number[], at: number): void {
  assert.equal(run(linktype, frame).r, at);
}

function fails(linktype: number, frame: number[], counter: AnomalyName): void {
  const { r, moved } = run(linktype, frame);
  assert.equal(r, -1);
  assert.equal(moved[0]![0], counter);
}

const eth = (type: number, ...rest: number[]) => [...MACS, type >> 8, type & 0xff, ...rest];
const tag = (tpid: number, vid = 5) => [vid >> 8, vid & 0xff, tpid >> 8, tpid & 0xff];

test('ethernet: IPv4, and non-IPv4 EtherTypes counted', () => {
  ok(1, eth(0x0800, ...IP), 14);
  fails(1, eth(0x86dd, ...IP), 'link.not_ipv4');
  fails(1, eth(0x0806, ...IP), 'link.not_ipv4');
  fails(1, eth(0x0040, ...IP), 'link.not_ipv4'); // 802.3 length field
  // a header with nothing after it: the IPv4 decoder will call it truncated
  ok(1, eth(0x0800), 14);
});

test('ethernet: truncated headers', () => {
  for (let n = 0; n < 14; n++) fails(1, eth(0x0800).slice(0, n), 'ethernet.truncated');
});

test('ethernet: 802.1Q, 802.1ad and 0x9100 tags, stacked (QinQ)', () => {
  // the outer TPID is the frame's EtherType; each tag's last two bytes name the next type
  ok(1, eth(0x8100, ...tag(0x0800), ...IP), 18);
  ok(1, eth(0x88a8, ...tag(0x8100), ...tag(0x0800), ...IP), 22);
  ok(1, eth(0x9100, ...tag(0x8100), ...tag(0x0800), ...IP), 22);
  ok(1, eth(0x8100, ...tag(0x8100), ...tag(0x8100), ...tag(0x0800), ...IP), 26);
  fails(1, eth(0x8100, ...tag(0x86dd), ...IP), 'link.not_ipv4');
});

test('ethernet: VLAN bounds', () => {
  fails(1, eth(0x8100, 0, 5, 0x08), 'vlan.truncated');
  fails(1, eth(0x88a8, ...tag(0x8100), 0), 'vlan.truncated');
  // four tags are followed, a fifth is too deep
  ok(1, eth(0x8100, ...tag(0x8100), ...tag(0x8100), ...tag(0x8100), ...tag(0x0800), ...IP), 30);
  fails(1, eth(0x8100, ...tag(0x8100), ...tag(0x8100), ...tag(0x8100), ...tag(0x8100), ...tag(0x0800), ...IP), 'vlan.too_deep');
});

test('raw IP: version nibble must be 4 (101, 12, 14); 228 trusts the link type', () => {
  for (const lt of [101, 12, 14]) {
    ok(lt, IP, 0);
    fails(lt, [0x60, ...IP.slice(1)], 'link.not_ipv4');
    fails(lt, [], 'link.truncated');
  }
  ok(228, IP, 0);
  ok(228, [0x60, ...IP.slice(1)], 0); // the IPv4 decoder counts ipv4.version_not_4
  ok(228, [], 0); // ...and ipv4.truncated
});

test('NULL: AF_INET in either byte order', () => {
  ok(0, [2, 0, 0, 0, ...IP], 4);
  ok(0, [0, 0, 0, 2, ...IP], 4);
  fails(0, [30, 0, 0, 0, ...IP], 'link.not_ipv4'); // AF_INET6 on macOS
  fails(0, [0, 0, 0, 24, ...IP], 'link.not_ipv4');
  fails(0, [2, 0, 0, 2, ...IP], 'link.not_ipv4');
  fails(0, [2, 0, 0], 'null.truncated');
});

test('LOOP: AF_INET in network order only', () => {
  ok(108, [0, 0, 0, 2, ...IP], 4);
  fails(108, [2, 0, 0, 0, ...IP], 'link.not_ipv4');
  fails(108, [0, 0], 'null.truncated');
});

test('Linux SLL and SLL2', () => {
  const sll = (proto: number) => [0, 0, 0, 1, 0, 6, 1, 2, 3, 4, 5, 6, 0, 0, proto >> 8, proto & 0xff];
  ok(113, [...sll(0x0800), ...IP], 16);
  ok(113, [...sll(0x8100), ...tag(0x0800), ...IP], 20);
  fails(113, [...sll(0x86dd), ...IP], 'link.not_ipv4');
  fails(113, sll(0x0800).slice(0, 15), 'sll.truncated');
  const sll2 = (proto: number) => [proto >> 8, proto & 0xff, 0, 0, 0, 0, 0, 3, 0, 1, 0, 6, 1, 2, 3, 4, 5, 6, 0, 0];
  ok(276, [...sll2(0x0800), ...IP], 20);
  fails(276, [...sll2(0x0806), ...IP], 'link.not_ipv4');
  fails(276, sll2(0x0800).slice(0, 19), 'sll2.truncated');
});

test('unsupported link types are counted', () => {
  fails(127, [...IP], 'link.unsupported_type');
  fails(9, [...IP], 'link.unsupported_type');
  fails(-1, [], 'link.unsupported_type');
});

test('isSupportedLinktype agrees with LINKTYPE and the decoder', () => {
  for (const lt of Object.values(LINKTYPE)) assert.ok(isSupportedLinktype(lt), String(lt));
  for (let lt = 0; lt < 300; lt++) {
    const an = new Anomalies();
    ipv4Offset(Buffer.alloc(64), 0, 64, lt, an);
    assert.equal(an.get('link.unsupported_type') === 0, isSupportedLinktype(lt), String(lt));
  }
});

test('linktypeName', () => {
  assert.equal(linktypeName(127), 'IEEE802_11_RADIOTAP');
  assert.equal(linktypeName(1), 'ETHERNET');
  assert.equal(linktypeName(276), 'LINUX_SLL2');
  assert.equal(linktypeName(150), 'USER3');
  assert.equal(linktypeName(4242), 'unknown');
});
