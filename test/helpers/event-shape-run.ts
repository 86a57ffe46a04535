/**
 * Child of test/output/event-shape.test.ts, run with --allow-natives-syntax: 40,000 lines
 * of one kind (the optimizing compiler makes the event path hot with small integers),
 * then events of many kinds (IPv4 and IPv6, scans with their counts, packet times past
 * 2038, i.e. not small integers, large counts), then it reports how many events do not
 * have the map of the last one (V8's %HaveSameMap), before reading any of them: an event
 * whose map was deprecated by a later event (a field that changed representation) keeps
 * the old map until it is read, and is migrated then, at run time.
 */
import { Harness } from './engine';
import { ipv4, tcp, udp, icmp, ipv6, SYN, ECE, CWR, DF } from './packets';
import { event, type IplogEvent } from '../../src/output/event';
import { IpAddr } from '../../src/net/addr';

const haveSameMap = new Function('a', 'b', 'return %HaveSameMap(a, b)') as (a: unknown, b: unknown) => boolean;

async function main(): Promise<void> {
  const seen: IplogEvent[] = [];
  const h = new Harness({ log_dest: true, verbose: true });
  h.engine.out.subscribe((ev) => seen.push(ev));
  // first many lines of one kind, so the optimizing compiler has made event() and the
  // handlers hot with small integers everywhere, before the other kinds come
  for (let i = 0; i < 40000; i++) {
    h.feed(1, ipv4({ src: `203.0.113.${i & 255}`, dst: '198.51.100.2', proto: 6, frag: DF }, tcp(1024 + (i % 60000), 1 + (i % 1000), SYN)));
  }
  seen.length = 1;
  const src = '192.0.2.7';
  const dst = '198.51.100.1';
  h.feed(1, ipv4({ src, dst, proto: 6, frag: DF }, tcp(40000, 22, SYN)));
  h.feed(1, ipv4({ src, dst, proto: 6, frag: DF }, tcp(40000, 80, SYN | ECE | CWR)));
  h.feed(2, ipv4({ src, dst, proto: 17 }, udp(5000, 53, 4)));
  h.feed(2, ipv4({ src, dst, proto: 17, ttl: 1 }, udp(5000, 33434, 4)));
  h.feed(3, ipv4({ src, dst, proto: 1 }, icmp(8, 0, 8)));
  h.feed(3, ipv4({ src, dst, proto: 1 }, icmp(5, 1, 40)));
  for (let i = 0; i < 12; i++) h.feed(4, ipv4({ src: '203.0.113.3', dst, proto: 6 }, tcp(41000, 100 + i, SYN)));
  h.feed(5, ipv6({ src: '2001:db8::7', dst: '2001:db8::1', nh: 6 }, tcp(40001, 22, SYN)));
  h.feed(5, ipv6({ src: '2001:db8::7', dst: '2001:db8::1', nh: 17 }, udp(5001, 53, 4)));
  for (let i = 0; i < 12; i++) h.feed(6, ipv6({ src: '2001:db8::9', dst: '2001:db8::1', nh: 6 }, tcp(41001, 200 + i, SYN)));
  // packet time past 2^31 seconds (2038): a double, not a small integer
  const late = 2 ** 31 + 100;
  h.feed(late, ipv4({ src: '198.51.100.77', dst, proto: 6, frag: DF }, tcp(40002, 23, SYN)));
  h.feed(late + 1, ipv4({ src: '198.51.100.78', dst, proto: 17 }, udp(5002, 53, 4)));
  await h.finish();
  // events made directly, as the ban manager and the log rules make theirs: large counts
  const extra = [
    event('ban.added', late + 2, IpAddr.parse('192.0.2.99')!, { count: 2 ** 40, bytes: 2 ** 33 + 0.5, detail: { reason: 'test' } }),
    event('log.match', late + 3, IpAddr.parse('2001:db8::99')!, { detector: 'sshd', count: 1 }),
  ];
  const all = [...seen, ...extra];
  // maps first: reading a field of an object whose map was deprecated migrates it
  let differ = 0;
  for (const e of all) if (!haveSameMap(all[all.length - 1], e)) differ++;
  const kinds = new Set<string>();
  for (const e of all) kinds.add(e.kind);
  process.stdout.write(JSON.stringify({ events: all.length, differ, kinds: [...kinds].sort() }) + '\n');
}

main().catch((e) => {
  process.stderr.write(String(e?.stack ?? e) + '\n');
  process.exit(1);
});
