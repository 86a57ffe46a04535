/**
 * IPv6 decode (issue 8 B.1–B.3, decode side): link types carrying IPv6, the fixed header
 * and the extension-header chain with a named anomaly per malformation, fragments and
 * their reassembly (RFC 5722 overlaps, duplicates, oversized, RFC 7112, RFC 8021),
 * ICMPv6 type/code and the ND/MLD classes.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Anomalies } from '../../src/decode/anomalies';
import { ipOffset, ipv4Offset, isSupportedLinktype } from '../../src/decode/link';
import { DecodedPacket } from '../../src/decode/packet';
import { decodeIpv6, IPV6_OK, IPV6_DROP, IPV6_FRAGMENT, IPV6_TRUNCATED, MAX_EXT_HEADERS } from '../../src/decode/ipv6';
import { Fragment6Table, FRAG6_MAX_DGRAMS } from '../../src/decode/fragments6';
import { FRAG_DUPLICATE, FRAG_OVERLAP, FRAG_OVERSIZED, FRAG_TTL } from '../../src/decode/fragments';
import { decodeIcmpv6, icmpv6Class, isIcmpv6Background, ICMP6_ND, ICMP6_MLD, ICMP6_ECHO, ICMP6_ERROR } from '../../src/decode/icmpv6';
import { IpAddr } from '../../src/net/addr';
import { Harness } from '../helpers/engine';
import { ipv6, ext6, frag6, icmp6, tcp, udp, cat, SYN } from '../helpers/packets';

const S = '2001:db8::1';
const D = '2001:db8:1::2';
const tcpSyn = () => tcp(40000, 22, SYN);
const ETH = (type: number, ip: Uint8Array) => cat(Buffer.alloc(12), Buffer.from([type >> 8, type & 0xff]), ip);
const tag = (tpid: number) => Buffer.from([0, 5, tpid >> 8, tpid & 0xff]);

/** ipOffset of a frame placed at offset 3; [offset within the frame, family, moved counters]. */
function link(linktype: number, frame: Uint8Array): [number, number, [string, number][]] {
  const buf = cat(Buffer.from([9, 9, 9]), frame, Buffer.alloc(8));
  const an = new Anomalies();
  const out = { family: 4 as 4 | 6 };
  const r = ipOffset(buf, 3, frame.length, linktype, an, out);
  return [r < 0 ? r : r - 3, out.family, an.nonZero()];
}

/** decodeIpv6 of a bare IPv6 packet; status, packet and moved counters. */
function dec(pkt: Uint8Array, avail = pkt.length): { st: number; p: DecodedPacket; moved: string[] } {
  const p = new DecodedPacket();
  const buf = cat(Buffer.alloc(2), pkt);
  p.reset(buf, 2, avail, 0, 0);
  const an = new Anomalies();
  const st = decodeIpv6(p, an);
  return { st, p, moved: an.nonZero().map(([n]) => n) };
}

test('link: IPv6 in every link type that carries it', () => {
  const ip = ipv6({ src: S, dst: D, nh: 6 }, tcpSyn());
  assert.deepEqual(link(1, ETH(0x86dd, ip)), [14, 6, []]);
  assert.deepEqual(link(1, ETH(0x8100, cat(tag(0x86dd), ip))), [18, 6, []], '802.1Q');
  assert.deepEqual(link(1, ETH(0x88a8, cat(tag(0x8100), tag(0x86dd), ip))), [22, 6, []], 'QinQ');
  assert.deepEqual(link(1, ETH(0x0800, ip)), [14, 4, []], 'the EtherType decides, not the version');
  const sll = cat(Buffer.from([0, 0, 0, 1, 0, 6, 1, 2, 3, 4, 5, 6, 0, 0, 0x86, 0xdd]), ip);
  assert.deepEqual(link(113, sll), [16, 6, []]);
  const sll2 = cat(Buffer.from([0x86, 0xdd, 0, 0, 0, 0, 0, 3, 0, 1, 0, 6, 1, 2, 3, 4, 5, 6, 0, 0]), ip);
  assert.deepEqual(link(276, sll2), [20, 6, []]);
  for (const af of [24, 28, 30]) {
    assert.deepEqual(link(0, cat(Buffer.from([af, 0, 0, 0]), ip)), [4, 6, []], `NULL AF ${af} little-endian`);
    assert.deepEqual(link(0, cat(Buffer.from([0, 0, 0, af]), ip)), [4, 6, []], `NULL AF ${af} big-endian`);
    assert.deepEqual(link(108, cat(Buffer.from([0, 0, 0, af]), ip)), [4, 6, []], `LOOP AF ${af}`);
    assert.equal(link(108, cat(Buffer.from([af, 0, 0, 0]), ip))[0], -1, 'LOOP is network order only');
  }
  assert.deepEqual(link(0, cat(Buffer.from([10, 0, 0, 0]), ip))[2], [['link.not_ipv4', 1]], "Linux's AF_INET6 is not a BSD loopback value");
  for (const lt of [101, 12, 14]) assert.deepEqual(link(lt, ip), [0, 6, []], `RAW ${lt}`);
  assert.deepEqual(link(229, ip), [0, 6, []]);
  assert.ok(isSupportedLinktype(229));
  // the IPv4-only entry point still refuses IPv6, with one counter
  const an = new Anomalies();
  assert.equal(ipv4Offset(ETH(0x86dd, ip), 0, 14 + ip.length, 1, an), -1);
  assert.deepEqual(an.nonZero(), [['link.not_ipv4', 1]]);
});

test('fixed header: fields in the IPv4 shape', () => {
  const { st, p, moved } = dec(ipv6({ src: S, dst: D, nh: 6, hlim: 57, tc: 0xb8, flow: 0x12345 }, tcpSyn()));
  assert.equal(st, IPV6_OK);
  assert.deepEqual(moved, []);
  assert.equal(p.family, 6);
  assert.deepEqual([...p.src6], [0x20010db8, 0, 0, 1]);
  assert.ok(IpAddr.v6FromWords(p.dst6).equals(IpAddr.parse(D)!));
  assert.equal(p.proto, 6);
  assert.equal(p.ttl, 57);
  assert.equal(p.tos, 0xb8);
  assert.equal(p.flow, 0x12345);
  assert.equal(p.hlen, 40);
  assert.equal(p.totalLen, 60);
  assert.equal(p.l4Off, 42);
  assert.equal(p.l4Len, 20);
  assert.equal(p.l4Avail, 20);
  assert.equal(p.frag, 0);
  assert.equal(p.src, 0, 'no stale IPv4 address');
});

test('extension-header chain: hop-by-hop, destination options, routing, AH are walked to the upper layer', () => {
  const ah = Buffer.alloc(16);
  ah[0] = 6;
  ah[1] = 2; // (2 + 2) * 4 = 16 bytes
  const rh2 = ext6(60, Buffer.from([2, 1, 0, 0, 0, 0, ...new Array(16).fill(0)]), 43); // type 2, one segment
  const chain = cat(ext6(43), rh2, ext6(51), ah, tcpSyn());
  chain[0] = 43;
  const pkt = ipv6({ src: S, dst: D, nh: 0 }, chain);
  const { st, p, moved } = dec(pkt);
  assert.equal(st, IPV6_OK);
  assert.deepEqual(moved, []);
  assert.equal(p.proto, 6);
  assert.equal(p.hlen, 40 + 8 + rh2.length + 8 + 16);
  assert.equal(p.l4Len, 20);
  // ESP and no-next-header stop the walk: no upper-layer header to read
  assert.equal(dec(ipv6({ src: S, dst: D, nh: 60 }, cat(ext6(50), Buffer.alloc(16)))).p.proto, 50);
  const none = dec(ipv6({ src: S, dst: D, nh: 59 }, Buffer.alloc(0)));
  assert.equal(none.st, IPV6_OK);
  assert.equal(none.p.proto, 59);
  assert.deepEqual(none.moved, []);
});

test('each malformation is a named anomaly', () => {
  const drop = (pkt: Uint8Array, name: string, avail?: number) => {
    const r = dec(pkt, avail);
    assert.notEqual(r.st, IPV6_OK, name);
    assert.ok(r.moved.includes(name), `${name}: moved ${r.moved.join(',')}`);
  };
  const ok = (pkt: Uint8Array, name: string) => {
    const r = dec(pkt);
    assert.equal(r.st, IPV6_OK, name);
    assert.deepEqual(r.moved, [name]);
  };
  const base = ipv6({ src: S, dst: D, nh: 6 }, tcpSyn());
  assert.equal(dec(base, 39).st, IPV6_TRUNCATED);
  drop(base, 'ipv6.truncated', 39);
  const v4 = Buffer.from(base);
  v4[0] = 0x45;
  drop(v4, 'ipv6.version_not_6');
  drop(ipv6({ src: S, dst: D, nh: 60 }, cat(ext6(0), tcpSyn())), 'ipv6.hbh_not_first');
  drop(ipv6({ src: S, dst: D, nh: 60 }, Buffer.from([6])), 'ipv6.ext_truncated');
  const long = ext6(6);
  long[1] = 3; // says 32 bytes, has 8
  drop(ipv6({ src: S, dst: D, nh: 60 }, long), 'ipv6.ext_truncated');
  const badOpt = ext6(6, Buffer.from([0x05, 9, 0, 0, 0, 0]));
  drop(ipv6({ src: S, dst: D, nh: 60 }, cat(badOpt, tcpSyn())), 'ipv6.option_bad_len');
  // MAX_EXT_HEADERS destination options are walked (and counted as repeated); one more is too many
  const many = (n: number) => {
    const parts: Buffer[] = [];
    for (let i = 0; i < n; i++) parts.push(ext6(i === n - 1 ? 6 : 60));
    return ipv6({ src: S, dst: D, nh: 60 }, cat(...parts, tcpSyn()));
  };
  const atMax = dec(many(MAX_EXT_HEADERS));
  assert.equal(atMax.st, IPV6_OK);
  assert.deepEqual(atMax.moved, ['ipv6.ext_repeated']);
  drop(many(MAX_EXT_HEADERS + 1), 'ipv6.ext_too_many');
  const two = cat(ext6(43, Buffer.from([2, 0, 0, 0, 0, 0]), 43), ext6(6, Buffer.from([2, 0, 0, 0, 0, 0]), 43));
  ok(ipv6({ src: S, dst: D, nh: 43 }, cat(two, tcpSyn())), 'ipv6.ext_repeated');
  ok(ipv6({ src: S, dst: D, nh: 43 }, cat(ext6(6, Buffer.from([0, 1, 0, 0, 0, 0]), 43), tcpSyn())), 'ipv6.routing_type0');
  ok(ipv6({ src: 'ff02::1', dst: D, nh: 6 }, tcpSyn()), 'ipv6.src_multicast');
  ok(ipv6({ src: '::ffff:c000:201', dst: D, nh: 6 }, tcpSyn()), 'ipv6.v4mapped_address');
  ok(ipv6({ src: S, dst: D, nh: 6, plen: 0 }, tcpSyn()), 'ipv6.payload_len_zero');
  const short = dec(ipv6({ src: S, dst: D, nh: 6 }, tcpSyn()), 50);
  assert.equal(short.st, IPV6_OK);
  assert.deepEqual(short.moved, ['ipv6.caplen_short_of_payload_len']);
  assert.equal(short.p.l4Avail, 10);
});

test('fragments: the fragment header is read; atomic, bad-length and incomplete first fragments are named', () => {
  const data = udp(5000, 53, 40);
  const first = dec(ipv6({ src: S, dst: D, nh: 44 }, cat(frag6(17, 0, true, 0xdeadbeef), data.subarray(0, 16))));
  assert.equal(first.st, IPV6_FRAGMENT);
  assert.equal(first.p.id, 0xdeadbeef);
  assert.equal(first.p.proto, 17);
  assert.equal(first.p.frag, 0x2000);
  assert.equal(first.p.l4Len, 16);
  const second = dec(ipv6({ src: S, dst: D, nh: 44 }, cat(frag6(17, 16, false, 7), data.subarray(16))));
  assert.equal(second.st, IPV6_FRAGMENT);
  assert.equal(second.p.frag, 2);
  // RFC 8021: an atomic fragment is the whole packet
  const atomic = dec(ipv6({ src: S, dst: D, nh: 44 }, cat(frag6(6, 0, false, 1), tcpSyn())));
  assert.equal(atomic.st, IPV6_OK);
  assert.equal(atomic.p.proto, 6);
  assert.deepEqual(atomic.moved, ['ipv6.frag_atomic']);
  // RFC 8200 §4.5: a non-last fragment is a multiple of 8 bytes
  const odd = dec(ipv6({ src: S, dst: D, nh: 44 }, cat(frag6(17, 0, true, 2), data.subarray(0, 13))));
  assert.equal(odd.st, IPV6_DROP);
  assert.deepEqual(odd.moved, ['ipv6.frag_bad_len']);
  // RFC 7112: the first fragment must hold the chain and the upper-layer header
  const cutTcp = dec(ipv6({ src: S, dst: D, nh: 44 }, cat(frag6(6, 0, true, 3), tcpSyn().subarray(0, 8))));
  assert.equal(cutTcp.st, IPV6_DROP);
  assert.deepEqual(cutTcp.moved, ['ipv6.frag_first_incomplete']);
  const cutChain = dec(ipv6({ src: S, dst: D, nh: 44 }, cat(frag6(60, 0, true, 4), ext6(6, new Uint8Array(14)).subarray(0, 8))));
  assert.equal(cutChain.st, IPV6_DROP);
  assert.deepEqual(cutChain.moved, ['ipv6.frag_first_incomplete']);
});

/** Fragments of `payload` (upper layer `nh`) cut at `cuts`, as [offset, M, bytes]. */
function fragments(payload: Uint8Array, nh: number, id: number, pieces: [number, number][], src = S): Buffer[] {
  return pieces.map(([off, len]) => {
    const more = off + len < payload.length;
    return ipv6({ src, dst: D, nh: 44 }, cat(frag6(nh, off, more, id), payload.subarray(off, off + len)));
  });
}

class Recorder {
  readonly got: string[] = [];
  fragment6(kind: number, s: IpAddr, d: IpAddr, now: number): void {
    this.got.push(`${kind} ${s} ${d} ${now}`);
  }
}

function feed(t: Fragment6Table, pkt: Buffer, now: number, an: Anomalies): Buffer | null {
  const p = new DecodedPacket();
  p.reset(pkt, 0, pkt.length, now, 0);
  const st = decodeIpv6(p, an);
  assert.equal(st, IPV6_FRAGMENT);
  return t.add(p, now);
}

test('reassembly: out of order, the rebuilt datagram decodes to the upper layer', () => {
  const payload = udp(5000, 53, 100);
  const an = new Anomalies();
  const rec = new Recorder();
  const t = new Fragment6Table(rec, an, 1);
  const [a, b, c] = fragments(payload, 17, 42, [[0, 48], [48, 48], [96, 12]]);
  assert.equal(feed(t, c!, 10, an), null);
  assert.equal(feed(t, a!, 10, an), null);
  const whole = feed(t, b!, 11, an)!;
  assert.ok(whole);
  assert.equal(t.size(), 0);
  assert.equal(an.get('frag.reassembled'), 1);
  const p = new DecodedPacket();
  p.reset(whole, 0, whole.length, 11, 0);
  assert.equal(decodeIpv6(p, an, true), IPV6_OK);
  assert.equal(p.proto, 17);
  assert.equal(p.l4Len, payload.length);
  assert.deepEqual(Buffer.from(whole.subarray(40)), Buffer.from(payload));
  assert.deepEqual(rec.got, []);
  // a fragment header inside the rebuilt datagram is not followed again
  const nested = ipv6({ src: S, dst: D, nh: 44 }, cat(frag6(17, 0, true, 1), Buffer.alloc(8)));
  p.reset(nested, 0, nested.length, 0, 0);
  assert.equal(decodeIpv6(p, an, true), IPV6_DROP);
  assert.equal(an.get('ipv6.frag_nested'), 1);
});

test('reassembly attacks: overlap (RFC 5722), duplicate, oversized, past the end', () => {
  const payload = udp(5000, 53, 100);
  const run = (pieces: [number, number][], extra?: Buffer) => {
    const an = new Anomalies();
    const rec = new Recorder();
    const t = new Fragment6Table(rec, an, 1);
    let done = 0;
    for (const f of fragments(payload, 17, 9, pieces)) if (feed(t, f, 20, an)) done++;
    if (extra && feed(t, extra, 20, an)) done++;
    return { got: rec.got, done, size: t.size(), an };
  };
  const overlap = run([[0, 48], [40, 16]]);
  assert.deepEqual(overlap.got, [`${FRAG_OVERLAP} ${S} ${D} 20`]);
  assert.equal(overlap.an.get('frag.overlap'), 1);
  assert.equal(overlap.size, 0, 'the whole datagram is discarded');
  const overlapBefore = run([[48, 16], [40, 16]]);
  assert.deepEqual(overlapBefore.got, [`${FRAG_OVERLAP} ${S} ${D} 20`]);
  const dup = run([[0, 48], [0, 48]]);
  assert.deepEqual(dup.got, [`${FRAG_DUPLICATE} ${S} ${D} 20`]);
  assert.equal(dup.an.get('frag.duplicate'), 1);
  // a fragment past the end the last fragment announced
  const past = run([[96, 12], [0, 48]], ipv6({ src: S, dst: D, nh: 44 }, cat(frag6(17, 104, true, 9), Buffer.alloc(16))));
  assert.deepEqual(past.got, [`${FRAG_OVERLAP} ${S} ${D} 20`]);
  // offset + length > 65,535
  const an = new Anomalies();
  const rec = new Recorder();
  const t = new Fragment6Table(rec, an, 1);
  assert.equal(feed(t, ipv6({ src: S, dst: D, nh: 44 }, cat(frag6(17, 65528, false, 5), Buffer.alloc(16))), 3, an), null);
  assert.deepEqual(rec.got, [`${FRAG_OVERSIZED} ${S} ${D} 3`]);
  assert.equal(an.get('frag.oversized'), 1);
});

test('reassembly bounds: expiry after FRAG_TTL, eviction of the first to expire, independent of the seed', () => {
  const payload = udp(5000, 53, 100);
  const n = FRAG6_MAX_DGRAMS + 40;
  const run = (seed: number, order: number[]) => {
    const an = new Anomalies();
    const t = new Fragment6Table(new Recorder(), an, seed);
    // n incomplete datagrams, eight per second
    for (let i = 0; i < n; i++) feed(t, fragments(payload, 17, i, [[0, 48]])[0]!, 100 + (i >> 3), an);
    assert.equal(t.size(), FRAG6_MAX_DGRAMS);
    assert.equal(an.get('frag.evicted'), 40, 'the first 40 were evicted');
    const completed: number[] = [];
    for (const i of order) if (feed(t, fragments(payload, 17, i, [[48, 60]])[0]!, 130, an)) completed.push(i);
    return { completed, evicted: an.get('frag.evicted'), t, an };
  };
  const newestFirst = Array.from({ length: n }, (_, i) => n - 1 - i);
  const a = run(1, newestFirst);
  const b = run(0xabcdef, newestFirst);
  assert.deepEqual(a.completed, b.completed);
  assert.equal(a.completed.length, FRAG6_MAX_DGRAMS);
  assert.equal(a.completed.at(-1), 40);
  // the 40 orphan second halves are held, and expire FRAG_TTL after their arrival
  assert.equal(a.t.size(), 40);
  a.t.sweep(130 + FRAG_TTL - 1);
  assert.equal(a.t.size(), 40);
  assert.equal(a.t.due(), 130 + FRAG_TTL);
  a.t.sweep(130 + FRAG_TTL);
  assert.equal(a.t.size(), 0);
  assert.equal(a.an.get('frag.expired'), 40);
  // oldest first: each orphan evicts the datagram expiring first, a cascade that is the
  // same whatever the seed
  const oldestFirst = Array.from({ length: n }, (_, i) => i);
  const c = run(1, oldestFirst);
  const d = run(0xabcdef, oldestFirst);
  assert.deepEqual(c.completed, d.completed);
  assert.equal(c.evicted, d.evicted);
  assert.equal(c.t.size(), FRAG6_MAX_DGRAMS);
});

test('ICMPv6: type and code decoded; ND and MLD classified as link background', () => {
  for (const t of [133, 134, 135, 136, 137]) assert.equal(icmpv6Class(t), ICMP6_ND);
  for (const t of [130, 131, 132, 143]) assert.equal(icmpv6Class(t), ICMP6_MLD);
  for (const t of [128, 129]) assert.equal(icmpv6Class(t), ICMP6_ECHO);
  for (const t of [1, 2, 3, 4]) assert.equal(icmpv6Class(t), ICMP6_ERROR);
  assert.ok(isIcmpv6Background(135) && isIcmpv6Background(143) && !isIcmpv6Background(128) && !isIcmpv6Background(1));
  const { p } = dec(ipv6({ src: S, dst: D, nh: 58, hlim: 255 }, icmp6(135, 0, 20)));
  const an = new Anomalies();
  assert.ok(decodeIcmpv6(p, an));
  assert.equal(p.icmpType, 135);
  assert.equal(p.icmpCode, 0);
  assert.equal(p.icmpClass, ICMP6_ND);
  assert.deepEqual(an.nonZero(), []);
  const offLink = dec(ipv6({ src: S, dst: D, nh: 58, hlim: 64 }, icmp6(136, 0, 20))).p;
  assert.ok(decodeIcmpv6(offLink, an));
  assert.deepEqual(an.nonZero(), [['icmpv6.nd_hop_limit_not_255', 1]]);
  const cut = dec(ipv6({ src: S, dst: D, nh: 58 }, Buffer.from([128, 0]))).p;
  assert.equal(decodeIcmpv6(cut, an), false);
  assert.equal(an.get('icmpv6.truncated'), 1);
});

test('engine: IPv6 frames are decoded and reassembled, never mistaken for IPv4', async () => {
  const h = new Harness();
  const payload = udp(5000, 53, 100);
  h.feed(1, ipv6({ src: S, dst: D, nh: 6 }, tcpSyn()));
  for (const f of fragments(payload, 17, 77, [[48, 60], [0, 48]])) h.feed(2, f);
  h.feed(3, ipv6({ src: S, dst: D, nh: 58, hlim: 255 }, icmp6(135, 0, 20)));
  h.feed(4, ipv6({ src: S, dst: D, nh: 50 }, Buffer.alloc(16)));
  const lines = await h.finish();
  assert.equal(h.engine.ipv6Packets, 4);
  assert.equal(h.engine.ipv4Packets, 0);
  assert.equal(h.engine.an.get('frag.reassembled'), 1);
  assert.equal(h.engine.an.get('ipv6.other_protocol'), 1);
  assert.equal(h.engine.an.get('link.not_ipv4'), 0);
  // decode hands the upper layers to the IPv6 handlers: the SYN and the reassembled
  // datagram are lines; neighbour discovery is silent outside -V; ESP is only counted
  assert.deepEqual(lines, ['TCP: ssh connection attempt from [2001:db8::1]:40000', 'UDP: dgram to domain from [2001:db8::1]:5000 (100 data bytes)']);
});
