/**
 * src/capture/live.ts against a fake addon (no root, no libpcap): batches of pcap records
 * reach the engine as replay frames; the idle clock makes expiry lines on a quiet link but
 * never runs ahead of packets still on their way; interfaces that go down are retried or
 * given up as iplog 2.2.3 does; start-up failures are iplog's Fatal lines.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  LiveCapture,
  LiveFatal,
  startLive,
  captureBackend,
  IFF_UP,
  IFF_LOOPBACK,
  type NativeAddon,
  type NativeCapture,
  type IfAddress,
  type CaptureCounters,
} from '../../src/capture/live';
import { Engine } from '../../src/pipeline';
import { TextSink } from '../../src/output/sinks/text';
import { makeSettings } from '../helpers/engine';
import { ipv4, tcp, icmp, SYN, DF } from '../helpers/packets';
import type { Settings } from '../../src/config/settings';

type Cb = (kind: number, a: number, b: number | string, c: number) => boolean | void;

class FakeCapture implements NativeCapture {
  filter: string | null = null;
  slots: Buffer[] = [];
  cb: Cb | null = null;
  closed = false;
  released: number[] = [];
  pendingCount = 0;
  injected: Uint8Array[] = [];
  constructor(
    readonly device: string,
    readonly opts: { snaplen: number; promisc: boolean; bufferSize: number; timeoutMs: number },
    private readonly dl: number,
  ) {}
  datalink(): number {
    return this.dl;
  }
  nanosecond(): boolean {
    return true;
  }
  warning(): string | null {
    return null;
  }
  badFilter = false;
  setFilter(text: string): void {
    if (this.badFilter) throw Object.assign(new Error('pcap_compile: syntax error'), { code: 'PCAP_COMPILE' });
    this.filter = text;
  }
  start(slots: Buffer[], _flushMs: number, cb: Cb): void {
    this.slots = slots;
    this.cb = cb;
  }
  release(slot: number): void {
    this.released.push(slot);
  }
  pending(): number {
    return this.pendingCount;
  }
  stats(): CaptureCounters {
    return { received: 7, dropped: 2, ifDropped: 0, captured: 5, batches: 1, stalls: 0 };
  }
  inject(bytes: Uint8Array): number {
    this.injected.push(bytes);
    return bytes.length;
  }
  close(): void {
    this.closed = true;
  }
  /** Deliver frames as one batch in slot 0 (records as the addon lays them out). */
  deliver(frames: { sec: number; nsec: number; data: Buffer }[], slot = 0): boolean | void {
    const buf = this.slots[slot]!;
    let o = 0;
    for (const f of frames) {
      buf.writeUInt32LE(f.sec, o);
      buf.writeUInt32LE(f.nsec, o + 4);
      buf.writeUInt32LE(f.data.length, o + 8);
      buf.writeUInt32LE(f.data.length, o + 12);
      f.data.copy(buf, o + 16);
      o += 16 + f.data.length;
    }
    return this.cb!(0, slot, o, frames.length);
  }
}

class FakeAddon implements NativeAddon {
  addrs: IfAddress[] = [
    { name: 'lo', address: '127.0.0.1', flags: IFF_UP | IFF_LOOPBACK },
    { name: 'eth0', address: '192.0.2.1', flags: IFF_UP },
  ];
  flags = new Map<string, number>([
    ['lo', IFF_UP | IFF_LOOPBACK],
    ['eth0', IFF_UP],
  ]);
  raw = true;
  linktype = new Map<string, number>();
  failing = new Set<string>();
  badFilter = false;
  opened: FakeCapture[] = [];
  readonly Capture: NativeAddon['Capture'];
  constructor() {
    const self = this;
    this.Capture = function (device: string, opts: { snaplen: number; promisc: boolean; bufferSize: number; timeoutMs: number }) {
      if (self.failing.has(device)) throw Object.assign(new Error(`${device}: No such device exists`), { code: 'PCAP_ERROR_NO_SUCH_DEVICE' });
      const c = new FakeCapture(device, opts, self.linktype.get(device) ?? 1);
      c.badFilter = self.badFilter;
      self.opened.push(c);
      return c;
    } as unknown as NativeAddon['Capture'];
  }
  interfaces(): IfAddress[] {
    return this.addrs.filter((a) => ((this.flags.get(a.name.split(':')[0]!) ?? 0) & IFF_UP) !== 0).map((a) => ({ ...a, flags: this.flags.get(a.name.split(':')[0]!) ?? 0 }));
  }
  ifFlags(name: string): number {
    return this.flags.get(name) ?? -1;
  }
  canRawSocket(): boolean {
    return this.raw;
  }
  lockFile(): boolean {
    return true;
  }
  lockOwner(): number {
    return 0;
  }
  libVersion(): string {
    return 'fake';
  }
  last(device: string): FakeCapture {
    const c = [...this.opened].reverse().find((x) => x.device === device);
    assert.ok(c, `no capture opened on ${device}`);
    return c;
  }
}

/** Ethernet frame (zero MACs) around an IPv4 packet. */
function eth(ip: Buffer): Buffer {
  const f = Buffer.alloc(14 + ip.length);
  f.writeUInt16BE(0x0800, 12);
  ip.copy(f, 14);
  return f;
}

const T0 = 1_700_000_000;

function setup(settings: Partial<Settings> = {}, flags: Parameters<typeof makeSettings>[0] = {}) {
  const mem = TextSink.memory();
  const s = makeSettings(flags, settings);
  const engine = new Engine(s, mem.sink, null);
  const addon = new FakeAddon();
  let wall = T0 * 1000;
  const lines = (): string[] => mem.text().split('\n').filter(Boolean);
  return { s, engine, addon, lines, setWall: (sec: number) => (wall = sec * 1000), now: () => wall };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function syn(i: number): Buffer {
  return eth(ipv4({ src: '198.51.100.7', dst: '192.0.2.1', proto: 6, frag: DF, id: i }, tcp(40000 + i, 80, SYN)));
}

test('batches reach the engine frame by frame, with the filter of iplog 2.2.3 and none on loopback', async () => {
  const t = setup({ interfaces: ['lo', 'eth0'] });
  const live = await startLive(t.s, t.engine, { addon: t.addon, now: t.now });
  try {
    assert.deepEqual(live.interfaces, ['lo', 'eth0']);
    assert.equal(t.addon.last('lo').filter, null);
    assert.equal(t.addon.last('eth0').filter, 'ip and (tcp or udp or icmp) and dst host (192.0.2.1)');
    assert.equal(t.addon.last('eth0').opts.snaplen, 1500);
    assert.equal(t.addon.last('eth0').opts.promisc, false);
    const kept = t.addon.last('eth0').deliver([
      { sec: T0, nsec: 5, data: syn(1) },
      { sec: T0, nsec: 6, data: eth(ipv4({ src: '198.51.100.8', dst: '192.0.2.1', proto: 1 }, icmp(8, 0, 60))) },
    ]);
    assert.equal(kept, false, 'the slot is free again once the batch is handled');
    assert.deepEqual(t.lines(), [
      'Nov 14 22:13:20 TCP: http connection attempt from 198.51.100.7:40001',
      'Nov 14 22:13:20 ICMP: echo from 198.51.100.8 (64 bytes)',
    ]);
    assert.equal(t.engine.packets, 2);
  } finally {
    live.close();
  }
  assert.ok(t.addon.opened.every((c) => c.closed));
});

test('network time never goes backwards across interfaces', async () => {
  const t = setup({ interfaces: ['lo', 'eth0'] });
  const live = await startLive(t.s, t.engine, { addon: t.addon, now: t.now });
  try {
    t.addon.last('eth0').deliver([{ sec: T0 + 1, nsec: 0, data: syn(1) }]);
    t.addon.last('lo').deliver([{ sec: T0, nsec: 999_000_000, data: eth(ipv4({ src: '127.0.0.9', dst: '127.0.0.1', proto: 6, frag: DF }, tcp(1, 22, SYN))) }]);
    assert.deepEqual(t.lines().map((l) => l.slice(0, 15)), ['Nov 14 22:13:21', 'Nov 14 22:13:21']);
  } finally {
    live.close();
  }
});

test('the idle clock: expiry lines on a quiet link, never ahead of undelivered packets', async () => {
  const t = setup();
  const live = await startLive(t.s, t.engine, { addon: t.addon, now: t.now, tickMs: 5 });
  try {
    const cap = t.addon.last('eth0');
    cap.deliver(Array.from({ length: 15 }, (_, i) => ({ sec: T0, nsec: i * 1000, data: syn(i) })));
    assert.match(t.lines().at(-1)!, /TCP: port scan detected \[port 80\] from 198\.51\.100\.7/);
    // 50 s later the episode is due at T0+50; the clock stays 1 s behind the wall
    t.setWall(T0 + 50.9);
    await sleep(40);
    assert.doesNotMatch(t.lines().at(-1)!, /expired/);
    // packets still on their way hold the clock back
    cap.pendingCount = 1;
    t.setWall(T0 + 60);
    await sleep(40);
    assert.doesNotMatch(t.lines().at(-1)!, /expired/);
    cap.pendingCount = 0;
    await sleep(40);
    assert.equal(t.lines().at(-1), 'Nov 14 22:14:10 TCP: port scan mode expired for 198.51.100.7 - received a total of 15 packets (300 bytes).');
  } finally {
    live.close();
  }
});

test('an interface that goes down is retried until it is back, then logged as reopened', async () => {
  const t = setup();
  const said: string[] = [];
  const live = await startLive(t.s, t.engine, { addon: t.addon, now: t.now, tickMs: 5, reopenIntervalMs: 30, say: (l) => said.push(l) });
  try {
    const first = t.addon.last('eth0');
    t.addon.flags.set('eth0', 0);
    await sleep(30);
    assert.deepEqual(said, ['Warning: interface eth0 went down.']);
    assert.ok(first.closed);
    assert.deepEqual(live.interfaces, []);
    await sleep(60);
    assert.deepEqual(said, ['Warning: interface eth0 went down.'], 'nothing while it stays down');
    t.addon.flags.set('eth0', IFF_UP);
    await sleep(80);
    assert.deepEqual(said, ['Warning: interface eth0 went down.', 'Interface eth0 was reopened.']);
    assert.deepEqual(live.interfaces, ['eth0']);
    const again = t.addon.last('eth0');
    assert.notEqual(again, first);
    assert.equal(again.filter, 'ip and (tcp or udp or icmp) and dst host (192.0.2.1)');
    // counters of the closed handle are kept
    const st = live.stats();
    assert.equal(st.total.received, 14);
    assert.equal(st.total.dropped, 4);
  } finally {
    live.close();
  }
});

test('without raw sockets an interface that goes down is given up; the last one is fatal', async () => {
  const t = setup({ interfaces: ['eth0', 'tun0'] });
  t.addon.addrs.push({ name: 'tun0', address: '203.0.113.9', flags: IFF_UP });
  t.addon.flags.set('tun0', IFF_UP);
  t.addon.linktype.set('tun0', 101);
  t.addon.raw = false;
  const said: string[] = [];
  let fatal = '';
  const live = await startLive(t.s, t.engine, { addon: t.addon, now: t.now, tickMs: 5, say: (l) => said.push(l), onFatal: (l) => (fatal = l) });
  t.addon.flags.set('eth0', 0);
  await sleep(30);
  assert.deepEqual(said, ['Warning: interface eth0 went down.', 'Interface eth0 cannot be brought back up.']);
  assert.equal(fatal, '');
  // the capture thread of tun0 ends on its own (libpcap: the device disappeared)
  t.addon.last('tun0').cb!(1, 19, 'The interface disappeared', 0);
  assert.deepEqual(said.slice(2), ['Warning: interface tun0 went down.', 'Interface tun0 cannot be brought back up.']);
  assert.equal(fatal, 'Fatal: No more interfaces open for reading.  Exiting.');
  assert.equal(await live.ended, fatal);
  assert.ok(t.addon.opened.every((c) => c.closed));
});

test("start-up: unable to open, unsupported link types, nothing left → Couldn't initialize interfaces.", async () => {
  const t = setup({ interfaces: ['eth0', 'wlan0'] });
  t.addon.addrs.push({ name: 'wlan0', address: '192.0.2.50', flags: IFF_UP });
  t.addon.flags.set('wlan0', IFF_UP);
  t.addon.linktype.set('wlan0', 127); // radiotap
  t.addon.failing.add('eth0');
  const said: string[] = [];
  await assert.rejects(
    () => startLive(t.s, t.engine, { addon: t.addon, say: (l) => said.push(l) }),
    (e: unknown) => e instanceof LiveFatal && e.message === "Couldn't initialize interfaces." && e.status === 255,
  );
  assert.deepEqual(said, ['Warning: unable to open eth0', 'Warning: unable to open wlan0']);
  assert.ok(t.addon.opened.every((c) => c.closed));
  // a -i list without any interface of the system
  const u = setup({ interfaces: ['nosuch0'] });
  await assert.rejects(() => startLive(u.s, u.engine, { addon: u.addon }), /Couldn't initialize interfaces\./);
});

test('a filter that does not compile is fatal with libpcap\'s message', async () => {
  const t = setup();
  t.addon.badFilter = true;
  await assert.rejects(
    () => startLive(t.s, t.engine, { addon: t.addon }),
    (e: unknown) => e instanceof LiveFatal && e.message === 'pcap_compile: syntax error',
  );
});

test('-a: promiscuous handles filtered on the networks', async () => {
  const t = setup({ promiscNets: ['192.0.2.0/24', '198.51.100.0/25'] }, { promisc: true, log_dest: true });
  const live = await startLive(t.s, t.engine, { addon: t.addon });
  try {
    const c = t.addon.last('eth0');
    assert.equal(c.opts.promisc, true);
    assert.equal(c.filter, 'ip and (tcp or udp or icmp) and dst net (192.0.2.0/24 or 198.51.100.0/25)');
  } finally {
    live.close();
  }
});

test('restart: frames go to the new engine; interfaces reopened with the new settings when possible', async () => {
  const t = setup();
  const live = await startLive(t.s, t.engine, { addon: t.addon, now: t.now });
  try {
    const first = t.addon.last('eth0');
    const mem2 = TextSink.memory();
    const s2 = makeSettings({ icmp: false });
    const e2 = new Engine(s2, mem2.sink, null);
    live.restart(s2, e2);
    assert.ok(first.closed);
    const second = t.addon.last('eth0');
    assert.equal(second.filter, 'ip and (tcp or udp ) and dst host (192.0.2.1)');
    second.deliver([{ sec: T0, nsec: 0, data: syn(3) }]);
    assert.equal(t.lines().length, 0);
    assert.match(mem2.text(), /http connection attempt from 198\.51\.100\.7:40003/);
    // without raw sockets the handles are kept
    t.addon.raw = false;
    const e3 = new Engine(makeSettings(), TextSink.memory().sink, null);
    live.restart(makeSettings(), e3);
    assert.equal(second.closed, false);
    second.deliver([{ sec: T0, nsec: 0, data: syn(4) }]);
    assert.equal(e3.packets, 1);
  } finally {
    live.close();
  }
});

test("the daemon's backend: frames with their interface's injector, lines and fatal through its callbacks", () => {
  const t = setup();
  const got: number[] = [];
  let injector: ((f: Buffer) => boolean) | null = null;
  const backend = captureBackend({ addon: t.addon });
  const cap = backend.open(
    t.s,
    (_b, _o, caplen, _w, sec, _n, lt, inject) => {
      got.push(caplen, sec, lt);
      injector = inject;
    },
    () => undefined,
    () => undefined,
    () => t.engine,
  );
  try {
    t.addon.last('eth0').deliver([{ sec: T0, nsec: 0, data: syn(1) }]);
    assert.deepEqual(got, [54, T0, 1]);
    assert.equal(injector!(Buffer.alloc(60)), true);
    assert.equal(t.addon.last('eth0').injected.length, 1);
    assert.equal(cap.stats().received, 7);
    assert.equal(backend.canCapture(), true);
  } finally {
    cap.close();
  }
});

test('LiveCapture reports kernel drops once on the operational log', async () => {
  const t = setup();
  const warned: unknown[] = [];
  const log = { warn: (o: unknown) => warned.push(o), info: () => undefined, error: () => undefined } as unknown as NonNullable<ConstructorParameters<typeof LiveCapture>[2]>['log'];
  const live = await startLive(t.s, t.engine, { addon: t.addon, now: t.now, tickMs: 5, log });
  try {
    await sleep(40);
    assert.equal(warned.length, 1);
    assert.deepEqual((warned[0] as { total: number }).total, 2);
  } finally {
    live.close();
  }
});
