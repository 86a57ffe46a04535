/**
 * The lines the HIDS integrations are tested on, each with the address a consumer must
 * extract from it (or null: the line must not yield one).
 *
 * 1. Golden lines: every line of the project's golden outputs (test/conformance/out/*.log,
 *    the original's recorded runs in every variant; test/golden/**); the expected address
 *    comes from the catalogue oracle (catalogue.ts).
 * 2. Hostile lines: the conformance captures with their 127/8 addresses moved to
 *    198.18.0.0/15, replayed in-process with reverse DNS against a fake name server on
 *    127.0.0.1 that answers with names chosen to confuse parsers (`evil1`, `from`, `dead`,
 *    `1.2.3.4-5`, `10.0.0.1.evil`, ...), in the default form (names only), with -w, -w -D,
 *    -N and -N -D. The truth is the JSON twin of each line: the event's source address, when
 *    the line shows it.
 *    The IPv6 captures (pcaps/ipv6/, documentation addresses already) are replayed the
 *    same way, the fake name server naming ip6.arpa queries too.
 * 3. BAN lines of the ban manager (`BAN: banned <addr> for <n> seconds (<reason>)`, ...),
 *    written here from its documented format; likewise the IPv6 forms of the bogus-flags
 *    line (no capture has one): `[addr]:port`, `name (addr):port` (docs/log-format.md).
 * 4. The modern profile's lines: the same captures (and the project's modern corpus,
 *    pcaps/modern/, when present) replayed with `--profile modern -m` in the -N and -w
 *    forms, with and without -D, the truth again the JSON twin; and its new line forms
 *    written from their documented grammar (MODERN.md 5.6, docs/log-format.md), so that
 *    every form is tested whether or not a capture shows it: ACK and Maimon scans, sweeps
 *    (ICMPv6 neighbour sweeps too),
 *    SYN floods, ICMP/TCP traceroutes, tiny fragments, and the aggregates `... from many
 *    sources`, which name no source and must never yield an address (nor "many").
 */
import { readdirSync, readFileSync, statSync, writeFileSync, mkdtempSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseLine, addressOf, type Parsed } from './catalogue';
import { readCapture } from '../../src/capture/read';
import { ipv4Offset } from '../../src/decode/link';
import { Anomalies } from '../../src/decode/anomalies';
import { writePcap, type Frame } from '../helpers/pcap-writer';
import { startFakeDns, type FakeDns } from '../helpers/fake-dns';
import { parseCommandLine } from '../../src/cli/program';
import { replay } from '../../src/pipeline';
import { TextSink } from '../../src/output/sinks/text';
import { JsonSink, type JsonEvent } from '../../src/output/sinks/json';
import { TeeSink } from '../../src/output/sinks/tee';
import { createRenderer } from '../../src/output/resolve';

export const ROOT = join(__dirname, '..', '..', '..');
const STAMP = /^[A-Z][a-z]{2} [ 0-9][0-9] [0-9]{2}:[0-9]{2}:[0-9]{2} /;

export interface Entry {
  /** the iplog line text */
  text: string;
  /** what the catalogue says it is (null: not an event line) */
  parsed: Parsed | null;
  /** the source address the line states; null when it shows only a name or no source */
  addr: string | null;
  /** where it came from (for messages) */
  origin: string;
}

function walk(dir: string, out: string[] = []): string[] {
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) walk(p, out);
    else out.push(p);
  }
  return out;
}

/** Every distinct line text of the golden outputs (stamped lines of .log/.golden files; deviation goldens are unstamped). */
export function goldenEntries(): Entry[] {
  const seen = new Map<string, Entry>();
  const files = [
    ...walk(join(ROOT, 'test', 'conformance', 'out')).filter((f) => f.endsWith('.log')),
    ...walk(join(ROOT, 'test', 'golden')).filter((f) => f.endsWith('.golden') || f.endsWith('.log')),
  ];
  for (const f of files) {
    const unstamped = f.includes('conformance-deviations');
    for (const raw of readFileSync(f, 'utf8').split('\n')) {
      if (raw.startsWith('# ')) break; // counters / stderr sections of a golden
      let text: string;
      if (STAMP.test(raw)) text = raw.slice(16);
      else if (unstamped && raw !== '') text = raw;
      else continue;
      if (seen.has(text)) continue;
      const parsed = parseLine(text);
      seen.set(text, { text, parsed, addr: parsed === null ? null : addressOf(parsed.src), origin: f.slice(ROOT.length + 1) });
    }
  }
  return [...seen.values()];
}

/** BAN lines as the ban manager writes them (its documented format). */
export function banEntries(): Entry[] {
  const texts = [
    'BAN: banned 203.0.113.7 for 600 seconds (TCP: SYN scan; score 10; offence 1)',
    'BAN: banned 198.51.100.23 for 86400 seconds (TCP: port scan, TCP: FIN scan; score 14; offence 3)',
    'BAN: banned 2001:db8::7 for 600 seconds (TCP: Xmas scan; score 10; offence 1)',
    'BAN: banned 2001:db8:0:1::ffff:1 for 1200 seconds (Overlapping IP fragments from 10.0.0.1; score 10; offence 2)',
    'BAN: unbanned 203.0.113.7 (expired)',
    'BAN: unbanned 2001:db8::7 (expired while iplog was stopped)',
    'BAN: not banning 192.0.2.1 (gateway)',
    'BAN: not banning 127.0.0.1 (loopback)',
    'BAN: not banning 203.0.113.99 (ban budget of 10 per minute exhausted)',
    'BAN: not banning ::1 (loopback)',
    'BAN: not banning 198.51.100.9 (ban table full: 1000 bans)',
    // the IPv6 forms of a line that shows a host with its port (docs/log-format.md, RFC 5952 section 6)
    'TCP: Bogus TCP flags set by [2001:db8::7]:1234 (dest port 80)',
    'TCP: Bogus TCP flags set by [2001:db8:0:1::ffff:1]:1234 (dest [2001:db8::5]:80)',
    'TCP: Bogus TCP flags set by evil1 (2001:db8::7):1234 (dest port 80)',
    'TCP: Bogus TCP flags set by from (2001:db8:1:2:3:4:5:6):1234 (dest gw-7.example (2001:db8::5):80)',
    'TCP: Bogus TCP flags set by 2001.example:1234 (dest port 80)',
  ];
  return texts.map((text) => {
    const parsed = parseLine(text);
    return { text, parsed, addr: parsed === null ? null : parsed.kind.startsWith('ban.') ? parsed.src : addressOf(parsed.src), origin: 'documented format' };
  });
}

/**
 * The modern profile's line forms from their documented grammar (MODERN.md 5.6,
 * docs/log-format.md), each with the address a consumer must take (null: none). Hosts
 * named `many` and `sources` are there on purpose: a parser that reads `from (\S+)` takes
 * `many` from an aggregate line, and one that trusts names takes a host called `many`.
 */
export function modernFormEntries(): Entry[] {
  const texts = [
    'TCP: ACK scan detected [ports 22,25,80,110,143] from 203.0.113.7 [port 45678]',
    'TCP: ACK scan detected to 198.51.100.1 [ports 22,25,80,110,143,443,993,995,3306,8080,...] from evil1 (203.0.113.7) [port 45678]',
    'TCP: Maimon scan detected [ports 22,25,80,110,143] from 2001:db8::7 [port 45678]',
    'TCP: Maimon scan detected to gw-7.example (2001:db8::5) [ports 22,25,80,110,143] from from (2001:db8:1::7) [ports 45678,45679]',
    'TCP: ACK scan mode expired for 203.0.113.7 - received a total of 12 packets (480 bytes).',
    'TCP: port sweep detected to 198.51.100.0/24 [port 22] from 203.0.113.8 [port 40000]',
    'TCP: port sweep detected to 2001:db8:5::/64 [port 22] from many (2001:db8::8) [port 40000]',
    'UDP: port sweep detected to 198.51.100.0/24 [port 161] from 203.0.113.9 [port 40001]',
    'ICMP: ping sweep detected to 198.51.100.0/28 from 203.0.113.10',
    'ICMP: ping sweep detected to 2001:db8:5::/64 from sources (2001:db8::10)',
    'ARP: host sweep detected to 198.51.100.0/28 from 198.51.100.23',
    // IPv6's host sweep (neighbour solicitations); the first two as the engine writes them (catalogue.test.ts)
    'ICMPv6: neighbour sweep detected to 2001:db8:5::/123 from 2001:db8:5::99',
    'ICMPv6: neighbour sweep mode expired for 2001:db8:5::99 - received a total of 16 packets (384 bytes).',
    'ICMPv6: neighbour sweep detected to 2001:db8:5::/64 from evil1 (2001:db8::7)',
    'ICMPv6: neighbour sweep detected to gw-7.example (2001:db8:5::) from 2001:db8:1:2::',
    'ICMPv6: neighbour sweep detected to 2001:db8:5::/120 from many',
    'ICMPv6: neighbour sweep mode to 2001:db8:5:: expired for from (2001:db8::7) - received a total of 9 packets (288 bytes).',
    'TCP: SYN flood detected to 198.51.100.1 [port 80] from 203.0.113.11',
    'TCP: SYN flood detected to 198.51.100.1 [port 80] from many',
    'TCP: SYN flood detected to 198.51.100.1 [port 80] from many sources',
    'TCP: SYN flood detected to many (198.51.100.1) [port 80] from many sources',
    'TCP: SYN flood detected to 2001:db8::5 [port 443] from many sources',
    // a destination's flood to several or random ports lists them
    'TCP: SYN flood detected to 198.51.100.1 [ports 1,3736,7850,8744,9337,12147,21428,29997,32135,44236,...] from many sources',
    'TCP: SYN flood detected to 198.51.100.1 [ports 80,443] from 203.0.113.11 [port 40000]',
    'TCP: SYN flood mode to 198.51.100.1 expired for many sources - received a total of 5000 packets (200000 bytes).',
    'TCP: distributed scan detected to 198.51.100.1 [ports 1,2,3,4,5,6,7,8,9,10,...] from many sources',
    'TCP: decoy scan detected to 198.51.100.1 [ports 21,22,23,25,80] from many sources',
    'TCP: decoy scan mode to sources (198.51.100.1) expired for many sources - received a total of 60 packets (2400 bytes).',
    'ICMP: ping flood detected to 198.51.100.1 from many sources',
    'ICMP: ping flood detected to 2001:db8::5 from many sources',
    'ICMP/UDP: smurf attack detected to 198.51.100.1 from many sources',
    'UDP: scan/flood detected to 198.51.100.1 [port 53] from many sources',
    'UDP: scan/flood mode to 198.51.100.1 expired for many sources - received a total of 900 packets (45000 bytes).',
    'TCP: SYN scan detected [ports 22,80] from many [port 40000]',
    'TCP: SYN scan detected [ports 22,80] from many (203.0.113.12) [port 40000]',
    'ICMP: traceroute from 203.0.113.13',
    'ICMP: traceroute from many (203.0.113.13) to 198.51.100.1',
    'TCP: traceroute from 2001:db8::13 to 2001:db8::5',
    'TCP: traceroute from many',
    'Tiny IP fragment from 203.0.113.14',
    'Tiny IP fragment to 198.51.100.1 from gw-7.example (2001:db8::14)',
    'BAN: not banning 203.0.113.7 (spoofable evidence: 203.0.113.7 is a recent peer)',
  ];
  return texts.map((text) => {
    const parsed = parseLine(text);
    if (parsed === null) throw new Error(`the catalogue does not know the documented line ${text}`);
    return { text, parsed, addr: parsed.kind.startsWith('ban.') ? parsed.src : addressOf(parsed.src), origin: 'documented modern form' };
  });
}

/** Names the fake name server hands out: each one a way to trip a parser that trusts names. */
// ('' = NXDOMAIN; no two entries in a row that -w shows without an address, so every source
// is named with its address in one of the -w runs)
export const HOSTILE_NAMES = ['evil1', 'from', 'dead', 'attacker.example', '1.2.3.4-5', '10.0.0.1.evil', 'to', '', 'expired', 'beef', 'gw-7.example', '10.0.0.1-x'];

/** Which name an address gets: a function of the address, shifted per replay (so each source sees several). */
let shift = 0;
function nameFor(addr: string): string {
  const o = addr.split('.').map(Number);
  return HOSTILE_NAMES[(o[2]! * 7 + o[3]! + shift) % HOSTILE_NAMES.length]!;
}

/** 127.A.B.C → 198.(18 + A % 2).B.C in the outer IPv4 header (checksum fixed). */
function moveAddresses(pkt: Buffer, ip: number): void {
  for (const at of [ip + 12, ip + 16]) {
    if (pkt[at] === 127) {
      pkt[at + 1] = 18 + (pkt[at + 1]! % 2);
      pkt[at] = 198;
    }
  }
  const hlen = (pkt[ip]! & 15) * 4;
  if (pkt.length < ip + hlen) return;
  pkt.writeUInt16BE(0, ip + 10);
  let sum = 0;
  for (let i = 0; i < hlen; i += 2) sum += pkt.readUInt16BE(ip + i);
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  pkt.writeUInt16BE(~sum & 0xffff, ip + 10);
}

async function rewrite(pcap: string, out: string): Promise<void> {
  const frames: Frame[] = [];
  let linktype = 1;
  const an = new Anomalies();
  await readCapture(pcap, (buf, off, caplen, wirelen, sec, nsec, lt) => {
    linktype = lt;
    const data = Buffer.from(buf.subarray(off, off + caplen));
    const ip = ipv4Offset(data, 0, caplen, lt, an);
    if (ip >= 0 && caplen >= ip + 20 && data[ip]! >> 4 === 4) {
      // a header whose checksum was wrong stays wrong
      let sum = 0;
      const hlen = (data[ip]! & 15) * 4;
      if (caplen >= ip + hlen) for (let i = 0; i < hlen; i += 2) sum += data.readUInt16BE(ip + i);
      while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
      const wasBad = caplen >= ip + hlen && sum !== 0xffff;
      moveAddresses(data, ip);
      if (wasBad) data.writeUInt16BE(data.readUInt16BE(ip + 10) ^ 0x5a5a, ip + 10);
    }
    frames.push({ ts: sec, nsec, data, wirelen });
  }, an);
  writeFileSync(out, writePcap(frames, { linktype, nano: true }));
}

/** Run in this order; each -w form twice in a row, so every source gets a name shown with its address. */
export const HOSTILE_VARIANTS: Record<string, string[]> = {
  default: [],
  logip: ['-w'],
  logip_again: ['-w'],
  logip_dest: ['-w', '-D'],
  logip_dest_again: ['-w', '-D'],
  nores: ['-N'],
  nores_dest: ['-N', '-D'],
};

/** The modern replays' forms (-m: detections only). */
export const MODERN_VARIANTS: Record<string, string[]> = {
  nores: ['-N'],
  nores_dest: ['-N', '-D'],
  logip: ['-w'],
  logip_dest: ['-w', '-D'],
};

export interface Twin {
  text: string;
  json: JsonEvent;
  origin: string;
}

/** Replays `pcap` in-process with `args`; the text lines (expanded) and their JSON twins. */
export async function replayWithJson(pcap: string, args: string[], dns: FakeDns | null): Promise<{ text: string; json: JsonEvent[] }> {
  const argv = ['-r', pcap, '--config', '/dev/null', '--profile', 'compat', ...args];
  if (dns !== null) argv.push('--dns-server', dns.server, '--dns-timeout', '1000');
  const cli = parseCommandLine(argv);
  if (cli.kind !== 'run') throw new Error(`bad arguments ${argv.join(' ')}: ${cli.stderr}${cli.stdout}`);
  const s = cli.settings;
  const text = TextSink.memory();
  const json = JsonSink.memory(s.profile);
  const renderer = s.flags.disable_resolver ? null : createRenderer(s);
  const r = await replay(s, pcap, new TeeSink([text.sink, json.sink]), renderer);
  renderer?.close();
  if (r.error) throw r.error;
  return {
    text: text.text(),
    json: json
      .text()
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as JsonEvent),
  };
}

/** The address a line states for the event's source: the event's, if the rendered source shows it. */
export function statedAddress(j: JsonEvent): string | null {
  if (j.kind.startsWith('ban.')) return j.src;
  if (j.src === null || j.src_host === null) return null;
  return j.src_host === j.src || j.src_host.endsWith(` (${j.src})`) ? j.src : null;
}

/** The IPv6 captures replayed with hostile names: every detection kind IPv6 shows. */
const IPV6_HOSTILE = ['nmap-sS.pcap', 'nmap-sT.pcap', 'nmap-sU.pcap', 'ping-flood.pcap', 'traceroute-udp.pcap', 'thc-smurf6.pcap', 'thc-fragmentation6.pcap'];

/** The hostile replays (see the file comment). */
let twinsOnce: Promise<Twin[]> | undefined;

/** The hostile and modern replays (see the file comment); made once per process. */
export function hostileTwins(): Promise<Twin[]> {
  twinsOnce ??= makeTwins();
  return twinsOnce;
}

async function makeTwins(): Promise<Twin[]> {
  const dir = mkdtempSync(join(tmpdir(), 'iplog-hostile-'));
  const pcapDir = join(ROOT, 'pcaps', 'conformance');
  const dns = await startFakeDns((addr, qname) => {
    if (addr === undefined) {
      // an IPv6 address (ip6.arpa): a name from the same list, by the query and the run
      if (!qname.toLowerCase().endsWith('.ip6.arpa')) return { kind: 'nxdomain' };
      let h = shift;
      for (let i = 0; i < qname.length; i++) h = (h * 31 + qname.charCodeAt(i)) >>> 0;
      const name6 = HOSTILE_NAMES[h % HOSTILE_NAMES.length]!;
      return name6 === '' ? { kind: 'nxdomain' } : { kind: 'answer', name: name6 };
    }
    const name = nameFor(addr);
    return name === '' ? { kind: 'nxdomain' } : { kind: 'answer', name };
  });
  const twins: Twin[] = [];
  shift = 0;
  try {
    for (const f of readdirSync(pcapDir).sort()) {
      if (!f.endsWith('.pcap')) continue;
      const moved = join(dir, f);
      if (!existsSync(moved)) await rewrite(join(pcapDir, f), moved);
      for (const [variant, args] of Object.entries(HOSTILE_VARIANTS)) {
        const extra = f.startsWith('crafted_verbose') ? ['-V'] : [];
        shift++;
        const r = await replayWithJson(moved, [...args, ...extra], args.includes('-N') ? null : dns);
        for (const j of r.json) twins.push({ text: j.text, json: j, origin: `hostile ${f} ${variant}` });
      }
    }
    for (const f of IPV6_HOSTILE) {
      for (const [variant, args] of Object.entries(HOSTILE_VARIANTS)) {
        shift++;
        const r = await replayWithJson(join(ROOT, 'pcaps', 'ipv6', f), args, args.includes('-N') ? null : dns);
        for (const j of r.json) twins.push({ text: j.text, json: j, origin: `hostile ipv6/${f} ${variant}` });
      }
    }
    // 4. the modern profile (its detections: -m), on the same moved captures, IPv6 and the modern corpus
    const modernInputs = [
      ...readdirSync(pcapDir).filter((f) => f.endsWith('.pcap')).sort().map((f) => join(dir, f)),
      ...IPV6_HOSTILE.map((f) => join(ROOT, 'pcaps', 'ipv6', f)),
      ...(existsSync(join(ROOT, 'pcaps', 'modern')) ? walk(join(ROOT, 'pcaps', 'modern')).filter((f) => /\.pcap(ng)?$/.test(f)) : []),
    ];
    for (const pcap of modernInputs) {
      for (const [variant, args] of Object.entries(MODERN_VARIANTS)) {
        shift++;
        const r = await replayWithJson(pcap, ['--profile', 'modern', '-m', ...args], args.includes('-N') ? null : dns);
        for (const j of r.json) twins.push({ text: j.text, json: j, origin: `modern ${pcap.slice(pcap.lastIndexOf('/') + 1)} ${variant}` });
      }
    }
  } finally {
    await dns.close();
  }
  return twins;
}

export function hostileEntries(twins: Twin[]): Entry[] {
  const seen = new Map<string, Entry>();
  for (const t of twins) {
    if (seen.has(t.text)) continue;
    seen.set(t.text, { text: t.text, parsed: parseLine(t.text), addr: statedAddress(t.json), origin: t.origin });
  }
  return [...seen.values()];
}

let corpusOnce: Promise<Entry[]> | undefined;

/** All three groups, one entry per distinct text (golden first); built once per process. */
export function fullCorpus(): Promise<Entry[]> {
  corpusOnce ??= (async () => {
    const out = new Map<string, Entry>();
    for (const e of [...goldenEntries(), ...hostileEntries(await hostileTwins()), ...banEntries(), ...modernFormEntries()]) if (!out.has(e.text)) out.set(e.text, e);
    return [...out.values()];
  })();
  return corpusOnce;
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** `Mmm dd HH:MM:SS host iplog[pid]: text`, as syslogd writes a line of iplog's (line i gets second i). */
export function syslogLine(text: string, i: number, host = 'sensor', pid = 4242): string {
  const d = new Date(Date.UTC(2024, 2, 5, 10, 0, 0) + (i % 86400) * 1000);
  const day = d.getUTCDate();
  const two = (n: number) => String(n).padStart(2, '0');
  return `${MONTHS[d.getUTCMonth()]} ${day < 10 ? ' ' + day : day} ${two(d.getUTCHours())}:${two(d.getUTCMinutes())}:${two(d.getUTCSeconds())} ${host} iplog[${pid}]: ${text}`;
}
