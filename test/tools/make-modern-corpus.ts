/**
 * Makes the modern profile's corpus (pcaps/modern/): real tools (nmap, hping3, traceroute,
 * curl, dnsmasq, ping, python3's http.server) run in network namespaces this script creates
 * and deletes, documentation addresses only, traffic only between those namespaces. Run as
 * root: `npm run build && node dist/test/tools/make-modern-corpus.js [NAME...]` (all
 * captures, or the named ones; Debian packages nmap, hping3, traceroute, iputils-ping,
 * dnsmasq-base, curl, openssh-server, openssh-client, tcpdump; about 4 minutes, most of it
 * nmap -T1). It rewrites the named .pcap files and their entries of
 * pcaps/modern/PROVENANCE.md; the expectations (pcaps/modern/NAME.expect.json) are written
 * by hand from what the issue demands of each capture and are never touched here.
 *
 * Topology: a router namespace joins three hosts, each on a veth pair of its own:
 *   attacker 198.51.100.10/24  (nmap, hping3, traceroute)    via 198.51.100.1
 *   victim   192.0.2.5/24, and 192.0.2.6 .. 192.0.2.20 on the same interface (one host
 *            holding 16 protected addresses, so sweeps are seen): a web server on port 80,
 *            dnsmasq on port 53, sshd on port 22                via 192.0.2.1
 *   client   203.0.113.20/24   (benign traffic; a web server on port 8080)  via 203.0.113.1
 * The router forwards without reverse-path filtering, so spoofed sources pass; answers to
 * spoofed addresses of 198.51.100.0/24 that no host holds die at the router (no ARP answer).
 * Each capture is what the victim's interface carries in BOTH directions
 * (`tcpdump -i vv0 ip`): the probes and the victim's own answers, as a modern sensor on the
 * victim sees them. Each is bounded by a packet count so it stays small.
 *
 * Deviation from the issue's wording: hping3 floods use `-a ADDR` with many documentation
 * addresses (one hping3 run per address) instead of `--rand-source`, whose random
 * sources leave the documentation ranges.
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, writeFileSync, readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { NetnsKit, sleep, version } from './netns-kit';

const OUT = process.env.IPLOG_PCAP_OUT ?? join(__dirname, '..', '..', '..', 'pcaps', 'modern');
const ATT = '198.51.100.10';
const VIC = '192.0.2.5';
const CLI = '203.0.113.20';
/** the victim's other addresses: 192.0.2.6 .. 192.0.2.20 */
const VIC_MORE = Array.from({ length: 15 }, (_, i) => `192.0.2.${6 + i}`);
/** spoofed sources (hping3 -a, nmap -D): addresses of the attacker's /24 that no host holds */
const SPOOF = (n: number, from = 100): string[] => Array.from({ length: n }, (_, i) => `198.51.100.${from + i}`);
const kit = new NetnsKit('iplog-mcorp', 300_000);
const NS = kit.names(['r', 'a', 'v', 'c'] as const);
const work = kit.work;
const run = kit.run.bind(kit);
const bg = kit.bg.bind(kit);

function link(nsA: string, ifA: string, addrA: string, nsB: string, ifB: string, addrB: string, mac: string): void {
  run(nsA, ['ip', 'link', 'add', ifA, 'type', 'veth', 'peer', 'name', ifB, 'address', mac]);
  run(nsA, ['ip', 'link', 'set', ifB, 'netns', nsB]);
  run(nsA, ['ip', 'addr', 'add', addrA, 'dev', ifA]);
  run(nsB, ['ip', 'addr', 'add', addrB, 'dev', ifB]);
  run(nsA, ['ip', 'link', 'set', ifA, 'up']);
  run(nsB, ['ip', 'link', 'set', ifB, 'up']);
}

function setup(): void {
  kit.create(Object.values(NS));
  for (const ns of Object.values(NS)) {
    // IPv4 only: no router solicitations or MLD reports in the captures
    run(ns, ['sysctl', '-qw', 'net.ipv6.conf.all.disable_ipv6=1']);
    run(ns, ['sysctl', '-qw', 'net.ipv6.conf.default.disable_ipv6=1']);
    run(ns, ['sysctl', '-qw', 'net.ipv4.conf.all.rp_filter=0']);
    run(ns, ['sysctl', '-qw', 'net.ipv4.conf.default.rp_filter=0']);
  }
  run(NS.r, ['sysctl', '-qw', 'net.ipv4.ip_forward=1']);
  link(NS.r, 'ra0', '198.51.100.1/24', NS.a, 'va0', `${ATT}/24`, '02:77:00:00:01:0a');
  link(NS.r, 'rv0', '192.0.2.1/24', NS.v, 'vv0', `${VIC}/24`, '02:77:00:00:01:05');
  link(NS.r, 'rc0', '203.0.113.1/24', NS.c, 'vc0', `${CLI}/24`, '02:77:00:00:01:14');
  for (const a of VIC_MORE) run(NS.v, ['ip', 'addr', 'add', `${a}/24`, 'dev', 'vv0']);
  run(NS.a, ['ip', 'route', 'add', 'default', 'via', '198.51.100.1']);
  run(NS.v, ['ip', 'route', 'add', 'default', 'via', '192.0.2.1']);
  run(NS.c, ['ip', 'route', 'add', 'default', 'via', '203.0.113.1']);
  // the victim's web pages (30 small pages)
  const www = join(work, 'www');
  mkdirSync(www);
  for (let i = 1; i <= 30; i++) writeFileSync(join(www, `page${i}.html`), `<p>iplog test page ${i}</p>\n`);
  writeFileSync(join(www, 'index.html'), '<p>iplog test site</p>\n');
  // the victim's sshd (port 22, root by public key only) for the long session
  spawnSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', join(work, 'hostkey')]);
  spawnSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', join(work, 'clientkey')]);
  copyFileSync(join(work, 'clientkey.pub'), join(work, 'authorized_keys'));
  writeFileSync(join(work, 'sshd_config'), [`ListenAddress ${VIC}`, `HostKey ${work}/hostkey`, `PidFile ${work}/sshd.pid`, `AuthorizedKeysFile ${work}/authorized_keys`,
    'PermitRootLogin prohibit-password', 'PasswordAuthentication no', 'KbdInteractiveAuthentication no', 'UsePAM no', 'StrictModes no', 'UseDNS no', ''].join('\n'));
  mkdirSync('/run/sshd', { recursive: true, mode: 0o755 });
  bg(NS.v, ['/usr/sbin/sshd', '-D', '-e', '-f', join(work, 'sshd_config')]);
  bg(NS.v, ['python3', '-m', 'http.server', '80', '--bind', '0.0.0.0', '--directory', www]);
  bg(NS.c, ['python3', '-m', 'http.server', '8080', '--bind', CLI, '--directory', www]);
  // the victim serves DNS for example.test; the client and the victim resolve through it
  bg(NS.v, ['dnsmasq', '--no-daemon', '--no-resolv', '--no-hosts', `--listen-address=${VIC}`, '--bind-interfaces', '--port=53',
    `--address=/example.test/${VIC}`, `--address=/shop.test/${CLI}`, '--log-facility=-', '--pid-file=']);
  for (const ns of [NS.c, NS.v]) {
    kit.resolver(ns, VIC);
  }
}

interface Capture {
  name: string;
  /** what the traffic is, for PROVENANCE.md */
  what: string;
  tool: string[];
  /** at most this many packets (tcpdump -c) */
  max: number;
  /** where the traffic runs: attacker (default), client or victim */
  ns?: 'a' | 'c' | 'v';
  /** a shell command line (sh -c) */
  sh: string;
  /** end the command after this many ms (floods) */
  stopAfter?: number;
  /** run in the namespace before the command (e.g. sysctl), undone after */
  before?: [string[], string[]];
  /** wait this long after the command for late answers (default 1.5 s) */
  settle?: number;
}

const NMAP = `nmap -n -Pn --max-retries 0 -T4`;
/** one hping3 per spoofed source, all at once (a flood), then wait for them all */
const hping = (args: string, sources: string[]): string => `${sources.map((s) => `hping3 -q ${args} -a ${s} ${VIC} 2>/dev/null &`).join(' ')} wait`;
const CAPTURES: Capture[] = [
  // ---- scans of one host (ports 1-40 closed, 80 open) ----
  { name: 'nmap-sS', what: 'nmap SYN scan of ports 1-40 and 80 of the victim (80 open)', tool: ['nmap', '--version'], max: 300, sh: `${NMAP} -sS -p 1-40,80 ${VIC}` },
  { name: 'nmap-sT', what: 'nmap connect() scan of ports 1-40 and 80 of the victim (80 open)', tool: ['nmap', '--version'], max: 300, sh: `${NMAP} -sT -p 1-40,80 ${VIC}` },
  { name: 'nmap-sA', what: 'nmap ACK scan of ports 1-40 and 80 of the victim (every probe answered by RST)', tool: ['nmap', '--version'], max: 300, sh: `${NMAP} -sA -p 1-40,80 ${VIC}` },
  { name: 'nmap-sW', what: 'nmap Window scan of ports 1-40 and 80 of the victim', tool: ['nmap', '--version'], max: 300, sh: `${NMAP} -sW -p 1-40,80 ${VIC}` },
  { name: 'nmap-sM', what: 'nmap Maimon scan (FIN+ACK) of ports 1-40 and 80 of the victim', tool: ['nmap', '--version'], max: 300, sh: `${NMAP} -sM -p 1-40,80 ${VIC}` },
  { name: 'nmap-sF', what: 'nmap FIN scan of ports 1-40 and 80 of the victim', tool: ['nmap', '--version'], max: 300, sh: `${NMAP} -sF -p 1-40,80 ${VIC}` },
  { name: 'nmap-sN', what: 'nmap null scan of ports 1-40 and 80 of the victim', tool: ['nmap', '--version'], max: 300, sh: `${NMAP} -sN -p 1-40,80 ${VIC}` },
  { name: 'nmap-sX', what: 'nmap Xmas scan of ports 1-40 and 80 of the victim', tool: ['nmap', '--version'], max: 300, sh: `${NMAP} -sX -p 1-40,80 ${VIC}` },
  { name: 'nmap-sU', what: 'nmap UDP scan of ports 1-30 and 53 of the victim (53 open: dnsmasq; the kernel rate-limits its port unreachables)', tool: ['nmap', '--version'], max: 300, sh: `${NMAP} -sU -p 1-30,53 ${VIC}` },
  { name: 'nmap-sV', what: 'nmap version scan (-sV: SYN scan, then service probes to the open ports) of ports 1-20, 53 and 80 of the victim', tool: ['nmap', '--version'], max: 600, sh: `nmap -n -Pn -T4 -sV -p 1-20,53,80 ${VIC}` },
  { name: 'nmap-T1', what: 'nmap -T1 (sneaky: 15 s between probes) SYN scan of ports 21-25 of the victim', tool: ['nmap', '--version'], max: 100, sh: `nmap -n -Pn --max-retries 0 -T1 -sS -p 21-25 ${VIC}`, settle: 4000 },
  { name: 'nmap-scan-delay', what: 'nmap SYN scan of ports 1-8 of the victim with --scan-delay 3s', tool: ['nmap', '--version'], max: 100, sh: `nmap -n -Pn --max-retries 0 --scan-delay 3s -sS -p 1-8 ${VIC}`, settle: 4000 },
  { name: 'nmap-decoy', what: 'nmap SYN scan of ports 1-30 of the victim behind four decoys (-D 198.51.100.21,198.51.100.22,ME,198.51.100.23,198.51.100.24; the decoys hold no host: the victim\'s answers to them die at the router)', tool: ['nmap', '--version'], max: 400,
    sh: `${NMAP} -sS -D 198.51.100.21,198.51.100.22,ME,198.51.100.23,198.51.100.24 -p 1-30 ${VIC}` },
  { name: 'nmap-f', what: 'nmap SYN scan of ports 1-30 of the victim in 8-byte fragments (-f: each SYN in three fragments)', tool: ['nmap', '--version'], max: 300, sh: `${NMAP} -sS -f -p 1-30 ${VIC}` },
  // ---- sweeps over the protected set (the victim's 16 addresses in 192.0.2.0/27) ----
  { name: 'nmap-sn-sweep', what: 'nmap host discovery (-sn: echo request, SYN to 443, ACK to 80, timestamp request per address) of 192.0.2.0/27 (16 addresses answer, all the victim\'s)', tool: ['nmap', '--version'], max: 400, sh: `nmap -n -sn -T4 192.0.2.0/27` },
  { name: 'nmap-port-sweep', what: 'nmap SYN scan of port 445 over 192.0.2.0/27 (a port sweep: 16 of the victim\'s addresses answer RST)', tool: ['nmap', '--version'], max: 300, sh: `${NMAP} -sS -p 445 192.0.2.0/27` },
  // ---- floods ----
  { name: 'hping3-syn-flood', what: 'hping3 SYN flood to port 80 (open) of the victim: 30 SYNs 1 ms apart from each of 40 spoofed sources 198.51.100.100-139, all at once (hping3 -S -p 80 -c 30 -i u1000 -a ADDR, one run per address; --rand-source would leave the documentation ranges). The victim\'s SYN-ACKs die at the router', tool: ['hping3', '--version'], max: 3000,
    sh: hping('-S -p 80 -c 30 -i u1000', SPOOF(40)) },
  { name: 'hping3-udp-flood', what: 'hping3 UDP flood to port 7000 (closed) of the victim: 60 datagrams 1 ms apart from each of 10 spoofed sources 198.51.100.150-159, all at once (hping3 --udp -p 7000 -c 60 -i u1000 -a ADDR); the victim\'s port unreachables (rate-limited by the kernel) die at the router', tool: ['hping3', '--version'], max: 1500,
    sh: hping('--udp -p 7000 -c 60 -i u1000', SPOOF(10, 150)) },
  { name: 'hping3-icmp-flood', what: 'hping3 ICMP echo flood from the attacker\'s own address: 300 echo requests 1 ms apart (hping3 --icmp -c 300 -i u1000), each answered', tool: ['hping3', '--version'], max: 700, sh: `hping3 -q --icmp -c 300 -i u1000 ${VIC}` },
  // ---- traceroutes through the router (one hop before the victim) ----
  { name: 'traceroute-udp', what: 'traceroute (UDP probes to ports from 33434) to the victim, one router on the way', tool: ['traceroute', '--version'], max: 150, sh: `traceroute -n -w 1 ${VIC}` },
  { name: 'traceroute-icmp', what: 'traceroute -I (ICMP echo probes) to the victim, one router on the way', tool: ['traceroute', '--version'], max: 150, sh: `traceroute -n -I -w 1 ${VIC}` },
  { name: 'traceroute-tcp', what: 'traceroute -T -p 80 (TCP SYN probes to the open port 80) to the victim, one router on the way', tool: ['traceroute', '--version'], max: 150, sh: `traceroute -n -T -p 80 -w 1 ${VIC}` },
  // ---- fragment attacks ----
  { name: 'hping3-tiny-fragments', what: 'hping3 SYNs to ports 20-39 of the victim, each cut into 8-byte fragments (hping3 -S -p ++20 -f -m 8 -c 20: tiny fragments, the TCP header split)', tool: ['hping3', '--version'], max: 300, sh: `hping3 -q -S -p ++20 -f -m 8 -c 20 -i u20000 ${VIC}` },
  // ---- benign ----
  { name: 'benign-browsing', what: 'a client (203.0.113.20) fetches 30 pages of the victim\'s web server, one connection each, 0.1 s apart (curl)', tool: ['curl', '--version'], max: 600, ns: 'c',
    sh: `for i in $(seq 1 30); do curl -s -o /dev/null http://${VIC}/page$i.html; sleep 0.1; done` },
  { name: 'benign-many-connections', what: 'a client makes 35 connections to the victim\'s port 80, 0.3 s apart (curl; a busy client or a monitoring probe)', tool: ['curl', '--version'], max: 600, ns: 'c',
    sh: `for i in $(seq 1 35); do curl -s -o /dev/null http://${VIC}/; sleep 0.3; done` },
  { name: 'benign-ecn', what: 'an ECN client (sysctl net.ipv4.tcp_ecn=1: SYNs carry ECE+CWR) fetches 10 pages of the victim (curl)', tool: ['curl', '--version'], max: 300, ns: 'c',
    before: [['sysctl', '-qw', 'net.ipv4.tcp_ecn=1'], ['sysctl', '-qw', 'net.ipv4.tcp_ecn=2']],
    sh: `for i in $(seq 1 10); do curl -s -o /dev/null http://${VIC}/page$i.html; sleep 0.2; done` },
  { name: 'benign-dns', what: 'a client resolves 30 names (25 of example.test, 5 that do not exist) through the victim\'s dnsmasq (getent ahostsv4)', tool: ['dnsmasq', '--version'], max: 300, ns: 'c',
    sh: `for i in $(seq 1 25); do getent ahostsv4 host$i.example.test >/dev/null; sleep 0.1; done; for i in $(seq 1 5); do getent ahostsv4 nothing$i.invalid >/dev/null; sleep 0.1; done; true` },
  { name: 'benign-long-session', what: 'a client logs in to the victim\'s sshd (public key) and runs a command that prints a line, waits 8 s, then prints a line a second for 10 s: one session of about 20 s with an idle gap', tool: ['ssh', '-V'], max: 400, ns: 'c',
    sh: `ssh -n -i ${join(work, 'clientkey')} -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o BatchMode=yes -o LogLevel=ERROR root@${VIC} 'echo start; sleep 8; for i in 1 2 3 4 5 6 7 8 9 10; do echo $i; sleep 1; done'` },
  { name: 'benign-monitoring-ping', what: 'a client pings the victim every 0.5 s, 30 times (ping -i 0.5 -c 30), and two more of its addresses 5 times each', tool: ['ping', '-V'], max: 200, ns: 'c',
    sh: `ping -n -q -i 0.5 -c 30 ${VIC}; ping -n -q -i 0.5 -c 5 192.0.2.6; ping -n -q -i 0.5 -c 5 192.0.2.7` },
  { name: 'benign-victim-client', what: 'the victim as a client: it resolves shop.test through its dnsmasq, fetches 20 pages of the client\'s web server on port 8080 (curl) and pings it 5 times; the answers arrive at the victim', tool: ['curl', '--version'], max: 600, ns: 'v',
    sh: `for i in $(seq 1 20); do curl -s -o /dev/null http://shop.test:8080/page$i.html; sleep 0.1; done; ping -n -q -i 0.3 -c 5 ${CLI}` },
];

async function capture(c: Capture): Promise<string> {
  const file = join(work, `${c.name}.pcap`);
  const dump = bg(NS.v, ['tcpdump', '-i', 'vv0', '-n', '-s', '1500', '-U', '--immediate-mode', '-c', String(c.max), '-w', file, 'ip']);
  let listening = '';
  dump.stderr!.on('data', (d: Buffer) => (listening += d.toString()));
  for (let i = 0; i < 100 && !/listening on/.test(listening); i++) await sleep(50);
  if (!/listening on/.test(listening)) throw new Error(`tcpdump did not start: ${listening}`);
  const ns = NS[c.ns ?? 'a'];
  if (c.before) run(ns, c.before[0]);
  let out: string;
  try {
    if (c.stopAfter) {
      const t = bg(ns, ['sh', '-c', c.sh]);
      let text = '';
      t.stdout!.on('data', (d: Buffer) => (text += d.toString()));
      const ended = new Promise((r) => t.on('exit', r));
      await Promise.race([ended, sleep(c.stopAfter)]);
      t.kill('SIGINT');
      await Promise.race([ended, sleep(2000)]);
      if (t.exitCode === null) t.kill('SIGKILL');
      out = text;
    } else out = run(ns, ['sh', '-c', c.sh], { ok: false, timeout: 300_000 });
  } finally {
    if (c.before) run(ns, c.before[1]);
  }
  await sleep(c.settle ?? 1500);
  if (dump.exitCode === null) {
    dump.kill('SIGINT');
    await new Promise((r) => dump.on('exit', r));
  }
  copyFileSync(file, join(OUT, `${c.name}.pcap`));
  const count = /(\d+) packets? captured/.exec(listening)?.[1] ?? '?';
  const tail = out.trim().split('\n').filter((l) => l.trim() !== '').slice(-2).join(' | ').slice(0, 240);
  return `${count} packets${tail ? `; tool output: ${tail}` : ''}`;
}

async function main(): Promise<void> {
  if (process.getuid?.() !== 0) throw new Error('run as root (network namespaces, raw sockets)');
  const only = process.argv.slice(2);
  const unknown = only.filter((n) => !CAPTURES.some((c) => c.name === n));
  if (unknown.length) throw new Error(`no such capture: ${unknown.join(' ')} (known: ${CAPTURES.map((c) => c.name).join(' ')})`);
  mkdirSync(OUT, { recursive: true });
  setup();
  await sleep(2500); // servers up
  const prov = join(OUT, 'PROVENANCE.md');
  const old = existsSync(prov) ? readFileSync(prov, 'utf8') : '';
  const entries = new Map<string, string>();
  for (const m of old.matchAll(/^## (\S+)\n[\s\S]*?(?=^## |(?![\s\S]))/gm)) entries.set(m[1]!, m[0]);
  for (const c of CAPTURES) {
    if (only.length && !only.includes(c.name)) continue;
    process.stderr.write(`capturing ${c.name}\n`);
    const result = await capture(c);
    const where = { a: `the attacker (${ATT})`, c: `the client (${CLI})`, v: `the victim (${VIC})` }[c.ns ?? 'a'];
    entries.set(c.name, `## ${c.name}\n\n${c.what}.\n\n- command (in ${where}): \`${c.before ? `${c.before[0].join(' ')}; ` : ''}${c.sh.replaceAll(work, '$WORK')}\`\n- tool: ${version(c.tool)}\n- result: ${result}\n\n`);
    await sleep(500);
  }
  const head =
    '# pcaps/modern: how each capture was made\n\n' +
    'Written by `test/tools/make-modern-corpus.ts` (root; network namespaces joined by a router\n' +
    'namespace, documentation addresses only): attacker 198.51.100.10, victim 192.0.2.5 (also\n' +
    '192.0.2.6-20 on the same interface; a web server on port 80, dnsmasq on 53, sshd on 22), client\n' +
    '203.0.113.20 (benign traffic; a web server on 8080). Each capture is what the victim\'s\n' +
    'interface carried in both directions (`tcpdump -i vv0 ip`), cut at a packet count.\n' +
    '$WORK is the script\'s temporary directory (web pages, ssh keys).\n' +
    'The expectations of each capture are in NAME.expect.json (written by hand; checked by\n' +
    'test/detect/modern-expectations.test.ts, which replays with `--profile modern --home 192.0.2.0/24`).\n\n';
  const order = CAPTURES.map((c) => c.name).filter((n) => entries.has(n));
  writeFileSync(prov, head + order.map((n) => entries.get(n)!).join(''));
}

main().then(
  () => process.exit(0),
  (e) => {
    process.stderr.write(`make-modern-corpus: ${e instanceof Error ? e.message : e}\n`);
    process.exit(1);
  },
);
