/**
 * Deterministic generator of the project's own small captures (pcaps/<area>/...), one
 * behaviour per file, for what the recorded corpus (pcaps/conformance/) does not show:
 * other link layers and capture formats, malformed frames, the fixes, spoofed floods,
 * and clean traffic. Run: `node dist/test/tools/make-pcaps.js` (rewrites the files; the
 * goldens in test/golden/ are then checked, or rewritten with UPDATE_GOLDEN=1).
 * Addresses come from the documentation ranges (RFC 5737) and benchmark range (RFC 2544);
 * the goldens replay them with -N, so no name is ever looked up.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { writePcap, writePcapng, type Frame } from '../helpers/pcap-writer';
import { ipv4, tcp, udp, icmp, ether, SYN, FIN, ACK, PSH, RST, DF, MF } from '../helpers/packets';

const root = join(__dirname, '..', '..', '..', 'pcaps');
const T0 = 1700000000;

function put(rel: string, data: Buffer): void {
  const p = join(root, rel);
  mkdirSync(join(p, '..'), { recursive: true });
  writeFileSync(p, data);
}

/** a tiny deterministic PRNG (xorshift32) */
function rng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x;
  };
}

const synTo = (src: string, dst: string, sport: number, dport: number, frag = DF) => ipv4({ src, dst, proto: 6, frag }, tcp(sport, dport, SYN));

// --- link layers: the same three packets (a SYN, a datagram, an echo) in each framing ---
const three = [
  synTo('192.0.2.10', '198.51.100.1', 40000, 22),
  ipv4({ src: '192.0.2.10', dst: '198.51.100.1', proto: 17 }, udp(40001, 53, 12)),
  ipv4({ src: '192.0.2.10', dst: '198.51.100.1', proto: 1 }, icmp(8, 0, 60)),
];
const frames = (wrap: (ip: Buffer) => Buffer): Frame[] => three.map((ip, i) => ({ ts: T0 + i * 0.5, data: wrap(ip) }));

function vlan(ip: Buffer, tags: number[]): Buffer {
  const f = Buffer.alloc(12 + tags.length * 4 + 2 + ip.length);
  let o = 12;
  for (const [i, tpid] of tags.entries()) {
    f.writeUInt16BE(tpid, o);
    f.writeUInt16BE(100 + i, o + 2);
    o += 4;
  }
  f.writeUInt16BE(0x0800, o);
  f.set(ip, o + 2);
  return f;
}
function sll(ip: Buffer): Buffer {
  const f = Buffer.alloc(16 + ip.length);
  f.writeUInt16BE(0, 0); // to us
  f.writeUInt16BE(1, 2); // ARPHRD_ETHER
  f.writeUInt16BE(6, 4);
  f.writeUInt16BE(0x0800, 14);
  f.set(ip, 16);
  return f;
}
function sll2(ip: Buffer): Buffer {
  const f = Buffer.alloc(20 + ip.length);
  f.writeUInt16BE(0x0800, 0);
  f.writeUInt32BE(2, 4); // ifindex
  f.writeUInt16BE(1, 8);
  f[10] = 0;
  f[11] = 6;
  f.set(ip, 20);
  return f;
}
function bsdNull(ip: Buffer, bigEndian: boolean): Buffer {
  const f = Buffer.alloc(4 + ip.length);
  if (bigEndian) f.writeUInt32BE(2, 0);
  else f.writeUInt32LE(2, 0);
  f.set(ip, 4);
  return f;
}

put('decode/ethernet-vlan.pcap', writePcap(frames((ip) => vlan(ip, [0x8100]))));
put('decode/ethernet-qinq.pcap', writePcap(frames((ip) => vlan(ip, [0x88a8, 0x8100]))));
put('decode/linux-sll.pcap', writePcap(frames(sll), { linktype: 113 }));
put('decode/linux-sll2.pcap', writePcap(frames(sll2), { linktype: 276 }));
put('decode/bsd-null.pcap', writePcap(frames((ip) => bsdNull(ip, false)), { linktype: 0 }));
put('decode/openbsd-loop.pcap', writePcap(frames((ip) => bsdNull(ip, true)), { linktype: 108 }));
put('decode/raw-ipv4.pcap', writePcap(frames((ip) => ip), { linktype: 101 }));
put('decode/big-endian-nanosecond.pcap', writePcap(frames(ether), { bigEndian: true, nano: true }));
// pcapng: two interfaces with their own link types and timestamp resolutions, EPB and SPB
put(
  'decode/pcapng-two-interfaces.pcapng',
  writePcapng(
    [
      { ts: T0, data: ether(three[0]!), iface: 0 },
      { ts: T0 + 0.5, nsec: 500_000_001, data: three[1]!, iface: 1 },
      { ts: T0 + 1, data: ether(three[2]!), iface: 0 },
    ],
    { interfaces: [{ linktype: 1 }, { linktype: 101, tsresol: 9 }] },
  ),
);

// --- malformed frames inside a well-formed file: counted, never fatal ---
{
  const ip6 = Buffer.alloc(54);
  ip6.writeUInt16BE(0x86dd, 12);
  ip6[14] = 0x60;
  const arp = Buffer.alloc(42);
  arp.writeUInt16BE(0x0806, 12);
  const shortTcp = ipv4({ src: '192.0.2.20', dst: '198.51.100.1', proto: 6 }, new Uint8Array(8));
  const cut = ether(synTo('192.0.2.21', '198.51.100.1', 1, 22)).subarray(0, 14 + 12);
  const badSum = ipv4({ src: '192.0.2.22', dst: '198.51.100.1', proto: 6, badChecksum: true }, tcp(1, 22, SYN));
  const hlen4 = ipv4({ src: '192.0.2.23', dst: '198.51.100.1', proto: 6, hlen: 16 }, tcp(1, 22, SYN));
  const gre = ipv4({ src: '192.0.2.24', dst: '198.51.100.1', proto: 47 }, new Uint8Array(8));
  const fr: Frame[] = [ip6, arp, ether(shortTcp), cut, ether(badSum), ether(hlen4), ether(gre), Buffer.alloc(6)].map((data, i) => ({
    ts: T0 + i,
    data,
  }));
  put('decode/malformed-frames.pcap', writePcap(fr));
}

// --- fragments: a train 2.5 s apart, reassembled (fixed); IP options in the first fragment ---
{
  const payload = udp(1111, 53, 100);
  const a = ipv4({ src: '192.0.2.30', dst: '198.51.100.1', proto: 17, id: 900, frag: MF }, payload.subarray(0, 64));
  const b = ipv4({ src: '192.0.2.30', dst: '198.51.100.1', proto: 17, id: 900, frag: 8 }, payload.subarray(64));
  const opt = ipv4({ src: '192.0.2.31', dst: '198.51.100.1', proto: 6, id: 901, frag: MF, hlen: 24 }, tcp(2222, 80, SYN).subarray(0, 16));
  const opt2 = ipv4({ src: '192.0.2.31', dst: '198.51.100.1', proto: 6, id: 901, frag: 2 }, tcp(2222, 80, SYN).subarray(16));
  put(
    'scan/fragment-train-slow.pcap',
    writePcap([
      { ts: T0, data: ether(a) },
      { ts: T0 + 2.5, data: ether(b) },
      { ts: T0 + 10, data: ether(opt) },
      { ts: T0 + 10.1, data: ether(opt2) },
    ]),
  );
}

// --- a port sweep across many destinations: one source, many (src,dst) pairs, no detection
//     per pair in compat (the original counts per pair) ---
{
  const fr: Frame[] = [];
  for (let h = 1; h <= 40; h++) fr.push({ ts: T0 + h * 0.01, data: ether(synTo('192.0.2.40', `198.51.100.${h}`, 50000, 445)) });
  put('scan/sweep-many-destinations.pcap', writePcap(fr));
}

// --- spoofed SYN flood: 2000 SYNs from 500 sources of 198.18/16 to one host. Every pair
//     falls into one bucket of 4 (198 ^ 198), so pairs are evicted long before a threshold ---
{
  const r = rng(42);
  const fr: Frame[] = [];
  for (let i = 0; i < 2000; i++) {
    const s = r() % 500;
    const src = `198.18.${s >> 8}.${s & 255}`;
    fr.push({ ts: T0 + i / 4000, data: ether(synTo(src, '198.51.100.1', 1024 + (r() % 60000), 80, 0)) });
  }
  put('flood/syn-flood-spoofed.pcap', writePcap(fr));
}

// --- clean traffic: a TCP conversation, DNS answers, an echo exchange ---
{
  const c = '192.0.2.50';
  const s = '198.51.100.1';
  const fr: Frame[] = [];
  let t = T0;
  const add = (ip: Buffer) => fr.push({ ts: (t += 0.01), data: ether(ip) });
  for (let conn = 0; conn < 5; conn++) {
    const sp = 50000 + conn;
    add(ipv4({ src: s, dst: c, proto: 6, frag: DF }, tcp(443, sp, SYN | ACK)));
    for (let k = 0; k < 20; k++) add(ipv4({ src: s, dst: c, proto: 6, frag: DF }, tcp(443, sp, ACK | PSH, new Uint8Array(100))));
    add(ipv4({ src: s, dst: c, proto: 6, frag: DF }, tcp(443, sp, FIN | ACK)));
    add(ipv4({ src: s, dst: c, proto: 6, frag: DF }, tcp(443, sp, RST | ACK)));
  }
  for (let q = 0; q < 20; q++) add(ipv4({ src: '198.51.100.53', dst: c, proto: 17 }, udp(53, 33000 + q, 60)));
  for (let q = 0; q < 10; q++) add(ipv4({ src: s, dst: c, proto: 1 }, icmp(0, 0, 60)));
  put('clean/established-and-replies.pcap', writePcap(fr));
}
console.log(`pcaps written under ${root}`);
