/**
 * The modern profile over every capture of the project (pcaps/, the recorded conformance
 * corpus included; issue 9 points 1, 5 and 7):
 *  - roles: no detection names as its source an address that did not originate traffic
 *    to the destination the detection names (originators computed here, independently of
 *    the engine, as the sender of the first packet of each conversation);
 *  - the output never depends on the hash seed: three seeds, default and tiny tables;
 *  - the SYN tier changes no line where no table fills: every capture judged with the tier
 *    and with it turned off (ModernDetect.tierAdmits answering no) gives the same JSON;
 *  - expectations per capture: every attack capture gives exactly its detections, every
 *    benign capture none.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import Ajv2020 from 'ajv/dist/2020';
import { jsonEvent } from '../../src/output/sinks/json';
import type { LineHosts } from '../../src/output/sinks/sink';
import { join, relative } from 'node:path';
import { replay } from '../../src/pipeline';
import { readCapture } from '../../src/capture/read';
import { Anomalies } from '../../src/decode/anomalies';
import { DecodedPacket } from '../../src/decode/packet';
import { ipOffset } from '../../src/decode/link';
import type { IplogEvent } from '../../src/output/event';
import type { LineSink } from '../../src/output/sinks/sink';
import { makeSettings } from '../helpers/engine';
import { ModernDetect } from '../../src/detect/modern/engine';

const root = join(__dirname, '..', '..', '..');
const pcapRoot = join(root, 'pcaps');

function captures(dir = pcapRoot, out: string[] = []): string[] {
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) {
      if (name !== 'bench') captures(p, out);
    } else if (/\.pcap(ng)?$/.test(name)) out.push(p);
  }
  return out;
}

interface Run {
  lines: string[];
  events: IplogEvent[];
  json: ReturnType<typeof jsonEvent>[];
}

async function run(path: string, seed: number, stateMemory?: number, home?: string[]): Promise<Run> {
  const lines: string[] = [];
  const events: IplogEvent[] = [];
  const json: ReturnType<typeof jsonEvent>[] = [];
  const sink: LineSink = {
    write: (now, text, ev, hosts?: LineHosts) => {
      lines.push(`${now} ${text}`);
      if (ev) events.push(ev);
      json.push(jsonEvent(now, text, ev, hosts, 'modern'));
    },
    flush: () => {},
    close: () => {},
  };
  const settings = makeSettings({}, { profile: 'modern', hashSeed: seed, replayFile: path, stateMemory, home });
  const r = await replay(settings, path, sink, null);
  if (r.error) throw r.error;
  return { lines, events, json };
}

const DETECTION = /^(scan\.detected|tcp\.bogus_flags|udp\.traceroute|icmp\.traceroute|tcp\.traceroute)$/;

/** "A>B" for every conversation whose first packet A sent to B (reply-typed first packets open nothing) */
async function originators(path: string): Promise<Set<string>> {
  const first = new Map<string, string>();
  const out = new Set<string>();
  const p = new DecodedPacket();
  const an = new Anomalies();
  await readCapture(path, (buf, off, caplen, _w, _s, _n, linktype) => {
    const ip = ipOffset(buf, off, caplen, linktype, an, p);
    if (ip < 0) return;
    const v = buf[ip]! >> 4;
    let src: string, dst: string, proto: number, l4: number;
    if (v === 4) {
      if ((buf.readUInt16BE(ip + 6) & 0x1fff) !== 0) return;
      src = [...buf.subarray(ip + 12, ip + 16)].join('.');
      dst = [...buf.subarray(ip + 16, ip + 20)].join('.');
      proto = buf[ip + 9]!;
      l4 = ip + (buf[ip]! & 15) * 4;
    } else if (v === 6) {
      const hex = (o: number): string => buf.subarray(o, o + 16).toString('hex');
      src = hex(ip + 8);
      dst = hex(ip + 24);
      proto = buf[ip + 6]!;
      l4 = ip + 40;
    } else return;
    const end = off + caplen;
    if (l4 + 4 > end) return;
    let key: string;
    let replyTyped = false;
    if (proto === 6 || proto === 17) {
      const sp = buf.readUInt16BE(l4);
      const dp = buf.readUInt16BE(l4 + 2);
      key = `${proto}|${[`${src}:${sp}`, `${dst}:${dp}`].sort().join('|')}`;
      if (proto === 6 && l4 + 14 <= end) {
        const f = buf[l4 + 13]!;
        replyTyped = ((f & 4) !== 0 && (f & 2) === 0) || (f & 0x17) === 0x12;
      }
    } else if (proto === 1 || proto === 58) {
      const t = buf[l4]!;
      const request = proto === 1 ? [8, 13, 15, 17, 10].includes(t) : t === 128;
      if (!request) return; // replies and errors open nothing
      key = `icmp|${src}|${dst}|${t}`;
    } else return;
    if (!first.has(key)) {
      first.set(key, `${src}>${dst}`);
      if (!replyTyped) out.add(`${src}>${dst}`);
    }
  }, an);
  return out;
}

function addrKey(text: string): string {
  if (!text.includes(':')) return text;
  // expand an IPv6 text to 32 hex digits
  const [h, t] = text.split('::') as [string, string | undefined];
  const hs = h ? h.split(':') : [];
  const ts = t !== undefined && t !== '' ? t.split(':') : [];
  const mid = t === undefined ? [] : Array(8 - hs.length - ts.length).fill('0');
  return [...hs, ...mid, ...ts].map((g) => g.padStart(4, '0')).join('');
}

const ALL = captures();

test('modern roles: no detection names a source that did not originate traffic to the destination it names, over every capture', async () => {
  let checked = 0;
  for (const path of ALL) {
    const { events } = await run(path, 1);
    const orig = await originators(path);
    for (const ev of events) {
      if (!DETECTION.test(ev.kind) || ev.detail?.source_role === 'reflector') continue;
      if (ev.src === null) {
        // an aggregate ("from many sources") names no source at all
        assert.equal(ev.detail?.source_role, 'aggregate', `${relative(root, path)}: ${ev.kind} ${ev.detector ?? ''} without a source is not an aggregate`);
        continue;
      }
      const s = addrKey(ev.src.toString());
      // a sweep names the prefix it covered (detail.dst_prefix): the source must have originated something
      const d = ev.dst && typeof ev.detail?.dst_prefix !== 'string' ? addrKey(ev.dst.toString()) : null;
      const ok = d !== null ? orig.has(`${s}>${d}`) || (ev.detail?.src_prefix_len === 64 && [...orig].some((o) => o.startsWith(s.slice(0, 16)) && o.endsWith(`>${d}`))) : [...orig].some((o) => o.startsWith(`${s}>`));
      assert.ok(ok, `${relative(root, path)}: ${ev.kind} ${ev.detector ?? ''} names ${ev.src?.toString()} -> ${ev.dst?.toString()}, which originated no such traffic`);
      checked++;
    }
  }
  assert.ok(checked >= 30, `only ${checked} detections checked`);
});

test('modern output never depends on the hash seed (three seeds; default and tiny tables), over every capture', async () => {
  for (const path of ALL) {
    for (const mem of [undefined, 96 * 1024]) {
      const base = (await run(path, 1, mem)).lines.join('\n');
      for (const seed of [2, 0xdeadbeef]) {
        const other = (await run(path, seed, mem)).lines.join('\n');
        assert.equal(other, base, `${relative(root, path)} (state memory ${mem ?? 'default'}): seed ${seed} differs from seed 1`);
      }
    }
  }
});

test('the SYN tier changes no line where no table fills: every capture, with the tier and without it', async () => {
  const proto = ModernDetect.prototype as unknown as { tierAdmits: (...a: unknown[]) => boolean };
  const on = proto.tierAdmits;
  let waited = 0;
  for (const path of ALL) {
    proto.tierAdmits = function (this: unknown, ...a: unknown[]): boolean {
      const took = on.apply(this, a);
      if (took) waited++;
      return took;
    };
    let base: string;
    try {
      base = JSON.stringify((await run(path, 1)).json);
    } finally {
      proto.tierAdmits = on;
    }
    proto.tierAdmits = () => false;
    let off: string;
    try {
      off = JSON.stringify((await run(path, 1)).json);
    } finally {
      proto.tierAdmits = on;
    }
    assert.equal(off, base, `${relative(root, path)}: the tier changed the output`);
  }
  // not vacuous: first SYNs did wait in the tier
  assert.ok(waited > 100, `${waited} SYNs waited in the tier over the corpus`);
});

/** The detections each capture must give in the modern profile, exactly (text after the time). */
const EXPECT: Record<string, RegExp[]> = {
  'conformance/nmap_sS.pcap': [/^TCP: SYN scan detected \[ports [\d,]+,\.\.\.\] from 127\.0\.0\.1 \[port 54221\]$/],
  'conformance/nmap_sT.pcap': [/^TCP: port scan detected \[ports [\d,]+,\.\.\.\] from 127\.0\.0\.1 \[ports [\d,]+,\.\.\.\]$/],
  'conformance/nmap_sT_small.pcap': [/^TCP: port scan detected \[ports [\d,]+\] from 127\.0\.0\.1/],
  'conformance/nmap_sF.pcap': [/^TCP: FIN scan detected \[ports [\d,]+,\.\.\.\] from 127\.0\.0\.1 \[port 40099\]$/],
  'conformance/nmap_sN.pcap': [/^TCP: null scan detected .* from 127\.0\.0\.1 \[port 42996\]$/],
  'conformance/nmap_sX.pcap': [/^TCP: Xmas scan detected .* from 127\.0\.0\.1 \[port 58903\]$/],
  'conformance/nmap_sU.pcap': [/^UDP: scan\/flood detected .* from 127\.0\.0\.1 \[port 52790\]$/],
  'conformance/ping_flood.pcap': [/^ICMP: ping flood detected from 127\.0\.0\.1$/],
  'conformance/traceroute.pcap': [/^UDP: traceroute from 127\.0\.0\.1$/],
  'conformance/hping_udp_sport7.pcap': [/^ICMP\/UDP: smurf attack detected from 127\.0\.0\.0$/],
  'conformance/crafted_smurf_icmp.pcap': [/^ICMP\/UDP: smurf attack detected from 127\.0\.3\.0$/],
  // hping3 -X -Y: SYNs with ECE+CWR, an RFC 3168 ECN setup: not bogus in the modern profile
  'conformance/hping_bogus.pcap': [],
  'conformance/crafted_ping_slow.pcap': [],
  'conformance/crafted_icmp_types.pcap': [],
  'conformance/crafted_udp_misc.pcap': [],
  'conformance/crafted_verbose.pcap': [],
  // 16 SYNs to one port of one host: one first contact, not a scan
  'conformance/crafted_portscan_sameport.pcap': [],
  // the sensor's own -z answers (crafted flags from the victim) are never a subject
  'conformance/fool_nmap_veth_capture.pcap': [
    /^TCP: Bogus TCP flags set by 10\.77\.0\.2:31003 \(dest port 82\)$/,
    /^TCP: Xmas scan detected \[ports 80,85\] from 10\.77\.0\.2 \[ports 31001,31006\]$/,
    /^TCP: null scan detected \[port 81\] from 10\.77\.0\.2 \[port 31002\]$/,
  ],
  'clean/established-and-replies.pcap': [],
  // IPv6, made with real tools in namespaces (pcaps/ipv6/PROVENANCE.md)
  'ipv6/nmap-sS.pcap': [/^TCP: SYN scan detected \[ports [\d,]+,\.\.\.\] from 2001:db8::a \[port 33268\]$/],
  'ipv6/nmap-sT.pcap': [/^TCP: port scan detected \[ports [\d,]+,\.\.\.\] from 2001:db8::a /],
  'ipv6/nmap-sF.pcap': [/^TCP: FIN scan detected .* from 2001:db8::a \[port 49503\]$/],
  'ipv6/nmap-sN.pcap': [/^TCP: null scan detected .* from 2001:db8::a \[port 49241\]$/],
  'ipv6/nmap-sX.pcap': [/^TCP: Xmas scan detected .* from 2001:db8::a \[port 43120\]$/],
  'ipv6/nmap-sU.pcap': [/^UDP: scan\/flood detected .* from 2001:db8::a \[port 36009\]$/],
  'ipv6/ping-flood.pcap': [/^ICMP: ping flood detected from 2001:db8::a$/],
  'ipv6/traceroute-icmp.pcap': [/^ICMP: traceroute from 2001:db8::a$/],
  'ipv6/traceroute-udp.pcap': [/^UDP: traceroute from 2001:db8::a$/],
  'ipv6/benign-curl-dns.pcap': [],
  'ipv6/thc-flood_router6.pcap': [],
  // 2000 SYNs to one port from 2000 spoofed sources in one second: an aggregate, no source named
  'flood/syn-flood-spoofed.pcap': [/^TCP: SYN flood detected to 198\.51\.100\.1 \[port 80\] from many sources$/],
  // one source, port 80 of 26 loopback hosts: a port sweep (and its failures are a SYN scan)
  'conformance/crafted_synflood.pcap': [/^TCP: SYN scan detected \[port 80\] from 127\.0\.0\.1 /, /^TCP: port sweep detected to 127\.0\.0\.0\/26 \[port 80\] from 127\.0\.0\.1 /],
  'scan/fragment-train-slow.pcap': [],
};

test('modern expectations per capture: every attack right, every benign capture silent', async () => {
  for (const [name, want] of Object.entries(EXPECT)) {
    const { lines } = await run(join(pcapRoot, name), 1);
    const det = lines.map((l) => l.slice(l.indexOf(' ') + 1)).filter((l) => / detected|Bogus TCP flags|traceroute from/.test(l));
    assert.equal(det.length, want.length, `${name}:\n${det.join('\n')}`);
    for (const re of want) assert.ok(det.some((l) => re.test(l)), `${name}: no line matches ${re}\n${det.join('\n')}`);
  }
  for (const path of ALL.filter((p) => p.includes('/decode/'))) {
    const { lines } = await run(path, 1);
    assert.deepEqual(lines.filter((l) => / detected/.test(l)), [], relative(root, path));
  }
});

test('modern JSON events are valid against config/iplog-event.schema.json, over every capture', async () => {
  const validate = new Ajv2020({ allErrors: true, strict: false }).compile(JSON.parse(readFileSync(join(root, 'config', 'iplog-event.schema.json'), 'utf8')));
  const kinds = new Set<string>();
  for (const path of ALL) {
    for (const j of (await run(path, 1)).json) {
      assert.ok(validate(j), `${relative(root, path)}: ${JSON.stringify(j)}: ${JSON.stringify(validate.errors)}`);
      kinds.add(`${j.kind}${j.detector ? `/${j.detector}` : ''}`);
    }
  }
  for (const k of ['scan.detected/syn-scan', 'scan.detected/port-scan', 'scan.detected/udp-scan', 'udp.traceroute', 'icmp.traceroute', 'scan.expired/fin-scan']) assert.ok(kinds.has(k), `${k} never seen: ${[...kinds].join(' ')}`);
});
