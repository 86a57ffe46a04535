/**
 * The real captures in pcaps/conformance (the project's copy of the shared corpus), and tool-made conversions of one of them,
 * read with our reader and checked against facts measured with tcpdump 4.99.3 /
 * Wireshark 4.0.17 tools (Debian bookworm):
 *
 *   frames, first/last ts:  tcpdump -nn -tt -r F | wc -l / head -1 / tail -1
 *   IPv4 frames:            tcpdump -nn -r F ip | wc -l
 *   captured bytes:         capinfos -M -d -T -r F   (data size)
 *   link type:              capinfos -E -T -r F      (all "ether")
 *
 * The fixtures in test/capture/fixtures were made from fool_nmap_veth_capture.pcap with
 *   editcap -F pcapng F veth.pcapng
 *   editcap -F nsecpcap -t 0.000000123 F veth-ns-shift.pcap        (+123 ns each)
 *   editcap -F pcapng veth-ns-shift.pcap veth-ns-shift.pcapng       (if_tsresol 9)
 *   mergecap -F pcapng -w merged.pcapng veth-ns-shift.pcapng traceroute.pcap
 * (merged: IDB 0 = ns veth, IDB 1 = µs traceroute; capinfos -I), and their timestamps
 * checked with `tcpdump -nn --nano -tt -r`.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Anomalies } from '../../src/decode/anomalies';
import { ipv4Offset } from '../../src/decode/link';
import { collectFile, CollectedFrame } from '../helpers/capture-collect';

const ROOT = path.resolve(__dirname, '../../..');
const CORPUS = path.resolve(ROOT, 'pcaps/conformance');
const FIXTURES = path.join(ROOT, 'test/capture/fixtures');

// name, frames, first ts, last ts, sum of caplen, IPv4 frames
const FACTS: [string, number, string, string, number, number][] = [
  ['crafted_filters.pcap', 14, '1700000000.050000', '1700000000.699999', 740, 14],
  ['crafted_fin_thresholds.pcap', 31, '1700000000.050000', '1700000001.549999', 1674, 31],
  ['crafted_fool_nmap_veth.pcap', 7, '1700000000.200000', '1700000001.400000', 378, 7],
  ['crafted_frag.pcap', 21, '1700000000.001000', '1700000029.018999', 1548, 21],
  ['crafted_icmp_types.pcap', 40, '1700000000.050000', '1700000001.999998', 2520, 40],
  ['crafted_ping_slow.pcap', 72, '1700000002.000000', '1700000144.000000', 7056, 72],
  ['crafted_portscan_sameport.pcap', 16, '1700000000.050000', '1700000000.799999', 864, 16],
  ['crafted_scan_eviction.pcap', 50, '1700000000.020000', '1700000004.999999', 2700, 50],
  ['crafted_scan_two_dst.pcap', 24, '1700000000.050000', '1700000001.199999', 1296, 24],
  ['crafted_smurf_icmp.pcap', 95, '1700000000.010000', '1700000000.949999', 9310, 95],
  ['crafted_synflood.pcap', 26, '1700000000.010000', '1700000003.250000', 1404, 26],
  ['crafted_tcp_flags.pcap', 14, '1700000000.050000', '1700000001.649999', 756, 14],
  ['crafted_udp_misc.pcap', 13, '1700000000.050000', '1700000016.599999', 661, 13],
  ['crafted_verbose.pcap', 4, '1700000000.050000', '1700000000.200000', 173, 4],
  ['crafted_xmas_variants.pcap', 12, '1700000000.050000', '1700000000.599999', 648, 12],
  ['fool_nmap_veth_capture.pcap', 25, '1795383694.787459', '1795383700.347454', 1602, 13],
  ['hping_bogus.pcap', 10, '1795382879.579648', '1795382880.379910', 540, 10],
  ['hping_udp_sport7.pcap', 240, '1795382879.587634', '1795382880.188211', 13440, 240],
  ['nmap_sF.pcap', 80, '1795382879.547842', '1795382879.548397', 4320, 80],
  ['nmap_sN.pcap', 80, '1795382879.607833', '1795382879.608383', 4320, 80],
  ['nmap_sS.pcap', 80, '1795382879.584085', '1795382879.584646', 4480, 80],
  ['nmap_sT.pcap', 80, '1795382879.629672', '1795382879.630973', 5120, 80],
  ['nmap_sT_small.pcap', 12, '1795382879.648358', '1795382879.648509', 768, 12],
  ['nmap_sU.pcap', 80, '1795382879.675884', '1795382879.676555', 4488, 80],
  ['nmap_sX.pcap', 80, '1795382879.611182', '1795382879.611779', 4320, 80],
  ['ping_flood.pcap', 1000, '1795382879.556253', '1795382879.570263', 98000, 1000],
  ['traceroute.pcap', 6, '1795382879.548970', '1795382879.549067', 528, 6],
];

const us = (f: CollectedFrame) => `${f.sec}.${String(f.nsec / 1000).padStart(6, '0')}`;
const ns = (f: CollectedFrame) => `${f.sec}.${String(f.nsec).padStart(9, '0')}`;

test('corpus: every conformance capture has a fact row', () => {
  const names = fs.readdirSync(CORPUS).filter((n) => n.endsWith('.pcap')).sort();
  assert.deepEqual(names, FACTS.map((f) => f[0]).sort());
});

for (const [name, count, first, last, bytes, ipv4] of FACTS) {
  test(`corpus: ${name} matches tcpdump`, async () => {
    const r = await collectFile(path.join(CORPUS, name));
    assert.equal(r.error, null);
    assert.equal(r.summary!.format, 'pcap');
    assert.equal(r.summary!.frames, count);
    assert.equal(r.summary!.bytes, bytes);
    assert.equal(r.frames.length, count);
    assert.equal(us(r.frames[0]!), first);
    assert.equal(us(r.frames[count - 1]!), last);
    assert.ok(r.frames.every((f) => f.linktype === 1 && f.nsec % 1000 === 0 && f.caplen <= f.wirelen));
    assert.deepEqual(r.anomalies.nonZero(), []);
    // the link decoder finds exactly tcpdump's `ip` frames
    const an = new Anomalies();
    let found = 0;
    for (const f of r.frames) if (ipv4Offset(f.data, 0, f.caplen, f.linktype, an) === 14) found++;
    assert.equal(found, ipv4);
    assert.equal(an.get('link.not_ipv4'), count - ipv4);
  });
}

test('corpus: a whole file read in 64-byte chunks gives the same frames', async () => {
  const file = path.join(CORPUS, 'ping_flood.pcap');
  const a = await collectFile(file);
  const b = await collectFile(file, { chunkSize: 64 });
  assert.deepEqual(b.frames, a.frames);
});

test('fixtures: editcap pcapng (µs) gives the same frames as the pcap', async () => {
  const orig = await collectFile(path.join(CORPUS, 'fool_nmap_veth_capture.pcap'));
  const ng = await collectFile(path.join(FIXTURES, 'veth.pcapng'));
  assert.equal(ng.error, null);
  assert.equal(ng.summary!.format, 'pcapng');
  assert.deepEqual(ng.frames, orig.frames);
});

test('fixtures: nanosecond pcap and pcapng (if_tsresol 9) keep the +123 ns', async () => {
  const orig = await collectFile(path.join(CORPUS, 'fool_nmap_veth_capture.pcap'));
  for (const f of ['veth-ns-shift.pcap', 'veth-ns-shift.pcapng']) {
    const r = await collectFile(path.join(FIXTURES, f));
    assert.equal(r.error, null, f);
    assert.equal(r.frames.length, 25);
    // tcpdump -nn --nano -tt: first, second and last
    assert.equal(ns(r.frames[0]!), '1795383694.787459123');
    assert.equal(ns(r.frames[1]!), '1795383694.843484123');
    assert.equal(ns(r.frames[24]!), '1795383700.347454123');
    r.frames.forEach((fr, i) => {
      const o = orig.frames[i]!;
      assert.equal(fr.sec, o.sec);
      assert.equal(fr.nsec, o.nsec + 123);
      assert.deepEqual(fr.data, o.data);
      assert.equal(fr.wirelen, o.wirelen);
    });
  }
});

test('fixtures: mergecap pcapng with two interfaces of different resolution', async () => {
  const r = await collectFile(path.join(FIXTURES, 'merged.pcapng'));
  assert.equal(r.error, null);
  assert.equal(r.frames.length, 31);
  // tcpdump -nn --nano -tt -r merged.pcapng: lines 1, 2, 6, 7, 31
  assert.equal(ns(r.frames[0]!), '1795382879.548970000');
  assert.equal(ns(r.frames[1]!), '1795382879.549013000');
  assert.equal(ns(r.frames[5]!), '1795382879.549067000');
  assert.equal(ns(r.frames[6]!), '1795383694.787459123');
  assert.equal(ns(r.frames[30]!), '1795383700.347454123');
  const trace = await collectFile(path.join(CORPUS, 'traceroute.pcap'));
  assert.deepEqual(r.frames.slice(0, 6), trace.frames);
});
