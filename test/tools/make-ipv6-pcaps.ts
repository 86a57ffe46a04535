/**
 * Makes the project's IPv6 captures (pcaps/ipv6/) with real tools in network namespaces
 * this script creates and deletes: documentation addresses only (2001:db8::/32), traffic
 * only on a bridge inside the namespaces. Run as root:
 * `npm run build && node dist/test/tools/make-ipv6-pcaps.js [NAME...]`
 * (Debian packages: nmap, iputils-ping, traceroute, thc-ipv6, dnsmasq-base, curl, tcpdump).
 *
 * Topology: a namespace `br` holds a bridge; three hosts hang off it by veth pairs:
 *   attacker  2001:db8::a   (nmap, ping, traceroute, thc-ipv6)
 *   sensor    2001:db8::5   (the host iplog watches; a web server on port 80)
 *   neighbour 2001:db8::b   (answers multicast echo requests; dnsmasq + web server for the
 *                            benign capture)
 * Each capture is what arrives at the sensor (`tcpdump -i vs0 -Q in ip6`): the traffic a
 * sensor on that host sees addressed to it, plus the link's multicast (neighbour
 * discovery). Each is bounded by a packet count so it stays small. What each tool did is
 * written to pcaps/ipv6/PROVENANCE.md with the tool's version and command; the goldens
 * (test/golden/ipv6/) are the engine's output, reviewed against that file.
 */
import { copyFileSync, mkdirSync, writeFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { NetnsKit, sleep, version } from './netns-kit';

const OUT = process.env.IPLOG_PCAP_OUT ?? join(__dirname, '..', '..', '..', 'pcaps', 'ipv6');
const ATT = '2001:db8::a';
const SEN = '2001:db8::5';
const NBR = '2001:db8::b';
const kit = new NetnsKit('iplog-v6cap', 120_000);
const NS = kit.names(['br', 'a', 's', 'n'] as const);
const work = kit.work;
const run = kit.run.bind(kit);
const bg = kit.bg.bind(kit);

function setup(): void {
  kit.create(Object.values(NS));
  run(NS.br, ['ip', 'link', 'add', 'br0', 'type', 'bridge']);
  // no multicast snooping: a multicast echo request reaches every port
  run(NS.br, ['ip', 'link', 'set', 'br0', 'type', 'bridge', 'mcast_snooping', '0']);
  run(NS.br, ['sysctl', '-qw', 'net.ipv6.conf.br0.disable_ipv6=1']);
  run(NS.br, ['ip', 'link', 'set', 'br0', 'up']);
  const hosts: [string, string, string, string][] = [
    [NS.a, 'va0', ATT, '02:66:00:00:00:0a'],
    [NS.s, 'vs0', SEN, '02:66:00:00:00:05'],
    [NS.n, 'vn0', NBR, '02:66:00:00:00:0b'],
  ];
  for (const [ns, ifname, addr, mac] of hosts) {
    const peer = `p${ifname}`;
    run(NS.br, ['ip', 'link', 'add', peer, 'type', 'veth', 'peer', 'name', ifname, 'address', mac]);
    run(NS.br, ['ip', 'link', 'set', ifname, 'netns', ns]);
    run(NS.br, ['ip', 'link', 'set', peer, 'master', 'br0']);
    run(NS.br, ['ip', 'link', 'set', peer, 'up']);
    // no router solicitations, no temporary addresses: only what the tools send
    run(ns, ['sysctl', '-qw', `net.ipv6.conf.${ifname}.accept_ra=0`]);
    run(ns, ['sysctl', '-qw', `net.ipv6.conf.${ifname}.router_solicitations=0`]);
    run(ns, ['ip', '-6', 'addr', 'add', `${addr}/64`, 'dev', ifname, 'nodad']);
    run(ns, ['ip', 'link', 'set', ifname, 'up']);
  }
  // the sensor and the neighbour serve HTTP on port 80
  bg(NS.s, ['python3', '-m', 'http.server', '80', '--bind', SEN, '--directory', work]);
  bg(NS.n, ['python3', '-m', 'http.server', '80', '--bind', NBR, '--directory', work]);
  writeFileSync(join(work, 'index.html'), '<p>iplog test page</p>\n');
  // the benign capture resolves names through the neighbour's dnsmasq
  kit.resolver(NS.s, NBR);
  bg(NS.n, ['dnsmasq', '--no-daemon', '--no-resolv', '--no-hosts', `--listen-address=${NBR}`, '--bind-interfaces', '--port=53',
    `--address=/www.example.test/${NBR}`, '--log-facility=-', '--pid-file=']);
}

interface Capture {
  name: string;
  /** what the tool did, for PROVENANCE.md */
  what: string;
  tool: string[];
  /** at most this many packets (tcpdump -c) */
  max: number;
  /** run the traffic (in the attacker namespace unless `ns` says otherwise) */
  argv: string[];
  ns?: string;
  /** end the tool after this many ms (floods that never stop by themselves) */
  stopAfter?: number;
  prepare?: () => Promise<void>;
}

const NMAP = ['nmap', '-6', '-n', '-Pn', '--max-retries', '0', '-T4'];
const CAPTURES: Capture[] = [
  { name: 'nmap-sS', what: 'nmap SYN scan of ports 1-100 of the sensor (port 80 open)', tool: ['nmap', '--version'], max: 400, argv: [...NMAP, '-sS', '-p', '1-100', SEN] },
  { name: 'nmap-sT', what: 'nmap connect() scan of ports 1-100 of the sensor (port 80 open)', tool: ['nmap', '--version'], max: 400, argv: [...NMAP, '-sT', '-p', '1-100', SEN] },
  { name: 'nmap-sF', what: 'nmap FIN scan of ports 1-60 of the sensor', tool: ['nmap', '--version'], max: 400, argv: [...NMAP, '-sF', '-p', '1-60', SEN] },
  { name: 'nmap-sN', what: 'nmap null scan of ports 1-60 of the sensor', tool: ['nmap', '--version'], max: 400, argv: [...NMAP, '-sN', '-p', '1-60', SEN] },
  { name: 'nmap-sX', what: 'nmap Xmas scan of ports 1-60 of the sensor', tool: ['nmap', '--version'], max: 400, argv: [...NMAP, '-sX', '-p', '1-60', SEN] },
  { name: 'nmap-sU', what: 'nmap UDP scan of ports 1-40 of the sensor', tool: ['nmap', '--version'], max: 400, argv: [...NMAP, '-sU', '-p', '1-40', SEN] },
  { name: 'nmap-sn', what: 'nmap host discovery (-sn --send-ip: echo request, TCP SYN to 443, TCP ACK to 80, ICMPv6 timestamp-like probes) of the sensor', tool: ['nmap', '--version'], max: 100, argv: ['nmap', '-6', '-n', '-sn', '--send-ip', SEN] },
  { name: 'ping-flood', what: 'ping -6 -f -c 150 to the sensor (150 echo requests, each answered)', tool: ['ping', '-V'], max: 300, argv: ['ping', '-6', '-n', '-f', '-c', '150', SEN] },
  { name: 'traceroute-udp', what: 'traceroute -6 (UDP probes to ports from 33434, hop limit from 1) to the sensor, one hop away', tool: ['traceroute', '--version'], max: 100, argv: ['traceroute', '-6', '-n', '-w', '1', SEN] },
  { name: 'traceroute-icmp', what: 'traceroute -6 -I (ICMPv6 echo requests, hop limit from 1) to the sensor, one hop away', tool: ['traceroute', '--version'], max: 100, argv: ['traceroute', '-6', '-n', '-I', '-w', '1', SEN] },
  { name: 'thc-fragmentation6', what: 'thc-ipv6 fragmentation6 against the sensor: its fragmentation tests (overlapping, duplicate, atomic, tiny and many fragments, extension headers), the capture cut at 400 packets', tool: ['atk6-fragmentation6'], max: 400, argv: ['atk6-fragmentation6', 'va0', SEN], stopAfter: 60_000 },
  { name: 'thc-thcsyn6', what: 'thc-ipv6 thcsyn6 -r: a TCP SYN flood to port 80 of the sensor from random sources of the attacker /64, cut at 300 packets', tool: ['atk6-thcsyn6'], max: 300, argv: ['atk6-thcsyn6', '-r', '-i', '1000', 'va0', SEN, '80'], stopAfter: 5_000 },
  { name: 'thc-smurf6', what: 'thc-ipv6 smurf6: echo requests to ff02::1 with the sensor as source; the neighbour answers each with an echo reply to the sensor (unsolicited replies), cut at 200 packets', tool: ['atk6-smurf6'], max: 200, argv: ['atk6-smurf6', 'va0', SEN, 'ff02::1'], stopAfter: 5_000 },
  { name: 'thc-flood_router6', what: 'thc-ipv6 flood_router6: router advertisements from random link-local sources to ff02::1, cut at 60 packets', tool: ['atk6-flood_router6'], max: 60, argv: ['atk6-flood_router6', 'va0'], stopAfter: 3_000 },
  { name: 'benign-curl-dns', what: 'the sensor fetches http://www.example.test/ three times with curl, the name resolved by dnsmasq on the neighbour (DNS answers and HTTP responses arrive at the sensor)', tool: ['curl', '--version'], max: 200, ns: 'sensor',
    argv: ['sh', '-c', 'for i in 1 2 3; do curl -s -o /dev/null -w "%{http_code}\\n" http://www.example.test/; done'] },
];

async function capture(c: Capture): Promise<string> {
  const file = join(work, `${c.name}.pcap`);
  const dump = bg(NS.s, ['tcpdump', '-i', 'vs0', '-Q', 'in', '-n', '-s', '1500', '-U', '--immediate-mode', '-c', String(c.max), '-w', file, 'ip6']);
  let listening = '';
  dump.stderr!.on('data', (d: Buffer) => (listening += d.toString()));
  for (let i = 0; i < 100 && !/listening on/.test(listening); i++) await sleep(50);
  if (!/listening on/.test(listening)) throw new Error(`tcpdump did not start: ${listening}`);
  const ns = c.ns === 'sensor' ? NS.s : NS.a;
  let out: string;
  if (c.stopAfter) {
    const t = bg(ns, c.argv);
    let text = '';
    t.stdout!.on('data', (d: Buffer) => (text += d.toString()));
    const ended = new Promise((r) => t.on('exit', r));
    await Promise.race([ended, sleep(c.stopAfter), new Promise((r) => dump.on('exit', r))]);
    t.kill('SIGINT');
    await Promise.race([ended, sleep(2000)]);
    if (t.exitCode === null) t.kill('SIGKILL');
    out = text;
  } else out = run(ns, c.argv, { ok: false, timeout: 120_000 });
  await sleep(1500);
  if (dump.exitCode === null) {
    dump.kill('SIGINT');
    await new Promise((r) => dump.on('exit', r));
  }
  copyFileSync(file, join(OUT, `${c.name}.pcap`));
  const count = /(\d+) packets? captured/.exec(listening)?.[1] ?? '?';
  return `${count} packets; tool output: ${out.trim().split('\n').slice(-3).join(' | ').slice(0, 300)}`;
}

async function main(): Promise<void> {
  if (process.getuid?.() !== 0) throw new Error('run as root (network namespaces, raw sockets)');
  const only = process.argv.slice(2);
  mkdirSync(OUT, { recursive: true });
  setup();
  await sleep(2500); // servers up, the link's own start-up chatter over
  const prov = join(OUT, 'PROVENANCE.md');
  const old = only.length ? readFileSync(prov, 'utf8') : '';
  const entries = new Map<string, string>();
  for (const m of old.matchAll(/^## (\S+)\n[\s\S]*?(?=^## |(?![\s\S]))/gm)) entries.set(m[1]!, m[0]);
  for (const c of CAPTURES) {
    if (only.length && !only.includes(c.name)) continue;
    process.stderr.write(`capturing ${c.name}\n`);
    const result = await capture(c);
    entries.set(c.name, `## ${c.name}\n\n${c.what}.\n\n- command (${c.ns === 'sensor' ? 'in the sensor' : 'in the attacker'}): \`${c.argv.join(' ')}\`\n- tool: ${version(c.tool)}\n- result: ${result}\n\n`);
    await sleep(500);
  }
  const head =
    '# pcaps/ipv6: how each capture was made\n\n' +
    'Written by `test/tools/make-ipv6-pcaps.ts` (root; network namespaces on a bridge, addresses\n' +
    `in 2001:db8::/32 only): attacker ${ATT}, sensor ${SEN} (web server on port 80), neighbour\n` +
    `${NBR} (answers multicast echo requests; dnsmasq and a web server). Each capture is what\n` +
    'arrived at the sensor: `tcpdump -i vs0 -Q in ip6`, cut at a packet count.\n\n';
  writeFileSync(prov, head + [...entries.values()].join(''));
}

main().then(
  () => process.exit(0),
  (e) => {
    process.stderr.write(`make-ipv6-pcaps: ${e instanceof Error ? e.message : e}\n`);
    process.exit(1);
  },
);
