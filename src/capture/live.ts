/**
 * Live capture: libpcap through the native addon (native/), one capture thread per
 * interface, feeding the same Engine as replay.
 *
 * API (for the daemon, src/daemon.ts, which runs the live sensor):
 *
 *   const live = await startLive(settings, engine, opts?)   // throws LiveFatal
 *       engine: an Engine, or a function returning the current one (a restart swaps it)
 *       opts.onFrame: where frames go (default engine.onFrame), with an injector for the
 *       frame's interface; opts.say: the capture's own iplog lines; opts.onFatal
 *   captureBackend(opts?)     the same behind the daemon's CaptureBackend interface
 *                             (src/daemon.ts): open(), locks, canCapture()
 *   live.interfaces           names of the open interfaces
 *   live.stats()              pcap_stats per interface and in total (received, dropped by
 *                             the kernel, dropped by the interface, plus our own counters)
 *   live.restart(settings, engine)   SIGHUP: traffic goes to the new engine; interfaces are
 *                             reopened with the new settings (list, filter) if the process
 *                             can still open raw sockets, else the open handles are kept
 *   live.inject(bytes, name?) pcap_inject on an open interface (fool_nmap)
 *   live.pause() / resume()   while paused (a restart swapping engine and sink) the idle
 *                             ticker neither advances the clock nor flushes
 *   live.close()              stops every capture thread (joined) and every timer
 *   live.ended                resolves with the fatal line (`Fatal: No more interfaces open
 *                             for reading.  Exiting.`) when the last interface is gone for good
 *   lockFile(fd), lockOwner(fd)   the addon's fcntl record locks, for the pid file
 *
 * What it does, as iplog 2.2.3 does it (spec §5.2, iplog_pcap.c):
 *  - Interfaces: every interface that is up and has an IPv4 or IPv6 address (an
 *    extension: 2.2.3 knew IPv4 only; IPv6 addresses come from os.networkInterfaces(),
 *    which lists interfaces that are up), aliases (`eth0:1`) merged into their device; without -i, loopback interfaces are skipped; with -i,
 *    only the listed names that are in that list (unknown names are silently ignored).
 *    `-i any` (an extension) opens Linux's any device, filtered on every local address.
 *  - libpcap: snaplen 1500, promiscuous with -a, block mode (TPACKET_V3 with a short block
 *    timeout, never immediate mode), nanosecond timestamps.
 *  - BPF filter `ip and (tcp or udp or icmp) and dst host (A1 or A2 ...)` (the modern
 *    profile: `host (...)`, `net (...)`: both directions), built by
 *    buildFilter() exactly as the original builds it (disabled protocols dropped, with
 *    its stray space), `dst net (N1 or N2 ...)` with -a; no filter on loopback devices.
 *    An interface with IPv6 addresses (or -a with IPv6 networks) adds
 *    `ip6 and dst host (B1 or B2 ...)` (`ip6 and dst net (...)`): `(IPv4 part) or (IPv6
 *    part)`, or the IPv6 part alone. The IPv6 part selects no protocol: BPF's `tcp` on
 *    ip6 sees only a TCP header right after the fixed header, and extension headers or
 *    fragments must not hide traffic from the sensor; the engine selects protocols.
 *  - Link types: whatever the replay reader decodes (Ethernet, SLL/SLL2 for `any`, raw,
 *    NULL/LOOP); any other interface gets `Warning: unable to open X`.
 *  - An interface that goes down (IFF_UP cleared, or libpcap reporting it gone) logs
 *    `Warning: interface X went down.` and is closed; if the process can still open raw
 *    sockets it is retried at once and then every 30 s (`Interface X was reopened.` once
 *    it is up with an IPv4 address again), else `Interface X cannot be brought back up.`,
 *    and when that was the last one: `Fatal: No more interfaces open for reading.  Exiting.`
 *    (libpcap 1.10 no longer reports ENETDOWN, so the flag is watched on every tick.)
 *
 * Frames: the addon fills batches laid out like classic pcap records (nanosecond
 * timestamps) and the replay reader's PcapParser walks them, so every frame reaches
 * Engine.onFrame exactly as in replay. Network time never goes backwards: a frame stamped
 * before the engine's clock (interfaces deliver independently) is handled at the clock.
 *
 * The idle clock (DESIGN.md "The network clock"): time is packet time; a wall-clock ticker
 * (every `tickMs`) moves the engine's clock to the second of (wall time − `idleLagMs`) when
 * no captured packet is waiting for delivery, so "mode expired" lines appear on a quiet
 * link. Every packet captured more than idleLagMs ago has been delivered by then (block
 * timeout + flush interval ≪ idleLagMs), so no sweep runs ahead of a packet that would have
 * come before it: live and replay give the same lines for the same traffic. While packets
 * flow they are ahead of that mark and the ticker changes nothing.
 *
 * This file is, with clock code, the only place allowed to read the wall clock.
 *
 * Output: lines of the capture itself go to the engine's sink after the lines already
 * waiting for names, stamped with the wall second. The sink is flushed after each batch and on
 * each tick. When more than HOLD_PENDING_LINES lines wait for reverse DNS, the batch's slot
 * is held until they are written, so a slow resolver stalls the capture thread and the kernel
 * ring (drops counted) instead of growing memory.
 */
import * as path from 'node:path';
import { networkInterfaces } from 'node:os';
import type { Settings, Flags } from '../config/settings';
import type { Engine } from '../pipeline';
import type { Logger } from '../log';
import { IplogError, ERR } from '../errors';
import { isSupportedLinktype } from '../decode/link';
import { isNet6 } from '../rules/dst-net';
import { PcapParser, PCAP_FILE_HEADER } from './pcap-file';
import type { FrameHandler } from './source';
import type { InterfaceSnapshot } from '../metrics/snapshot';

/** Sends one frame on an interface (pcap_inject); false if it could not. */
export type Injector = (frame: Buffer) => boolean;

/** A captured frame, as FrameHandler, plus the injector of the interface it came in on. */
export type LiveFrameHandler = (
  buf: Buffer,
  off: number,
  caplen: number,
  wirelen: number,
  tsSec: number,
  tsNsec: number,
  linktype: number,
  inject: Injector,
) => void;

// ---------------------------------------------------------------- the addon

/** One libpcap handle of the addon (native/src/capture.cc). */
export interface NativeCapture {
  datalink(): number;
  nanosecond(): boolean;
  warning(): string | null;
  setFilter(text: string): void;
  start(slots: Buffer[], flushMs: number, cb: (kind: number, a: number, b: number | string, c: number) => boolean | void): void;
  release(slot: number): void;
  pending(): number;
  stats(): CaptureCounters;
  inject(bytes: Uint8Array): number;
  close(): void;
}

export interface NativeAddon {
  Capture: new (device: string, opts: { snaplen: number; promisc: boolean; bufferSize: number; timeoutMs: number }) => NativeCapture;
  interfaces(): IfAddress[];
  /** IPv6 addresses of the interfaces that are up (loadAddon() supplies os.networkInterfaces()'s; absent: none) */
  interfaces6?(): IfAddress[];
  ifFlags(name: string): number;
  canRawSocket(): boolean;
  lockFile(fd: number): boolean;
  lockOwner(fd: number): number;
  libVersion(): string;
}

/** Where `npm install` builds the addon (binding.gyp in native/). */
export const ADDON_PATH = path.resolve(__dirname, '..', '..', '..', 'native', 'build', 'Release', 'iplog_capture.node');

let addon: NativeAddon | null = null;

/** The addon, loaded once; IPLOG_ERR_LIVE_UNAVAILABLE when it was not built. */
export function loadAddon(): NativeAddon {
  if (addon !== null) return addon;
  try {
    const raw = require(ADDON_PATH) as NativeAddon;
    addon = Object.assign(Object.create(null) as NativeAddon, raw, { interfaces6: osInterfaces6 });
  } catch (e) {
    throw new IplogError(
      `live capture needs the native addon (${ADDON_PATH}): run \`npm install\` with libpcap's headers installed (Debian: libpcap-dev) (${(e as Error).message.split('\n')[0]})`,
      ERR.LIVE_UNAVAILABLE,
    );
  }
  return addon;
}

/** fcntl(F_SETLK) write lock on the whole file: true, or false when another process holds one. */
export function lockFile(fd: number): boolean {
  return loadAddon().lockFile(fd);
}

/** fcntl(F_GETLK): pid of another process holding a lock on the file, or 0. */
export function lockOwner(fd: number): number {
  return loadAddon().lockOwner(fd);
}

// ---------------------------------------------------------------- wall clock

/** The wall clock in whole seconds (lines of the live sensor that no packet dates). */
export function wallSeconds(): number {
  return Math.floor(Date.now() / 1000);
}

// ---------------------------------------------------------------- interfaces and filter

export const IFF_UP = 0x1;
export const IFF_LOOPBACK = 0x8;

/** The IPv6 addresses of os.networkInterfaces() (interfaces that are up and running), as IfAddress. */
export function osInterfaces6(): IfAddress[] {
  const out: IfAddress[] = [];
  for (const [name, list] of Object.entries(networkInterfaces())) {
    for (const a of list ?? []) {
      if (a.family !== 'IPv6' && (a.family as unknown) !== 6) continue;
      out.push({ name, address: a.address.replace(/%.*$/, ''), flags: IFF_UP | (a.internal ? IFF_LOOPBACK : 0) });
    }
  }
  return out;
}

/** Every address of the system's interfaces: the addon's IPv4 ones, then the IPv6 ones. */
export function systemAddresses(addon: NativeAddon): IfAddress[] {
  return addon.interfaces6 ? [...addon.interfaces(), ...addon.interfaces6()] : addon.interfaces();
}

/** One address of an interface, as getifaddrs() gives it (name may be an alias label); IPv6 ones hold ':'. */
export interface IfAddress {
  name: string;
  address: string;
  flags: number;
}

export interface Interface {
  name: string;
  /** IPv4 addresses in system order, aliases included */
  addresses: string[];
  /** IPv6 addresses in system order (absent when there are none) */
  addresses6?: string[];
  loopback: boolean;
}

/** The pseudo-device of Linux that captures on every interface (LINUX_SLL frames). */
export const ANY_DEVICE = 'any';

/**
 * iplog's interface list (get_iflist): interfaces that are up and have an IPv4 address,
 * in system order, with `eth0:1` merged into `eth0`; and (an extension) those that have
 * only IPv6 addresses.
 */
export function ipv4Interfaces(list: readonly IfAddress[]): Interface[] {
  const out: Interface[] = [];
  const byName = new Map<string, Interface>();
  for (const a of list) {
    if ((a.flags & IFF_UP) === 0) continue;
    const colon = a.name.indexOf(':');
    const name = colon >= 0 ? a.name.slice(0, colon) : a.name;
    let i = byName.get(name);
    if (i === undefined) {
      i = { name, addresses: [], loopback: (a.flags & IFF_LOOPBACK) !== 0 };
      byName.set(name, i);
      out.push(i);
    }
    if (a.address.includes(':')) (i.addresses6 ??= []).push(a.address);
    else i.addresses.push(a.address);
  }
  return out;
}

/**
 * setup_pcap(): without a list, every non-loopback interface; with one, the interfaces of
 * the system list whose names it contains (system order; unknown names ignored). `any`
 * stands for Linux's any device, filtered on every address of every interface.
 */
export function selectInterfaces(all: readonly Interface[], wanted: readonly string[] | undefined): Interface[] {
  if (wanted === undefined) return all.filter((i) => !i.loopback);
  const chosen = all.filter((i) => wanted.includes(i.name));
  if (wanted.includes(ANY_DEVICE) && !chosen.some((i) => i.name === ANY_DEVICE)) {
    const addresses = [...new Set(all.flatMap((i) => i.addresses))];
    const addresses6 = [...new Set(all.flatMap((i) => i.addresses6 ?? []))];
    if (addresses6.length > 0) chosen.push({ name: ANY_DEVICE, addresses, addresses6, loopback: false });
    else if (addresses.length > 0) chosen.push({ name: ANY_DEVICE, addresses, loopback: false });
  }
  return chosen;
}

/**
 * The BPF filter text of open_pcap_device(), byte for byte:
 * `ip and (tcp or udp or icmp) and dst host (A1 or A2)`; a disabled protocol is left out
 * the way the original leaves it out (`ip and (tcp or udp ) and ...` when ICMP is off);
 * with -a, `dst net (N1 or N2)` with the networks as given.
 *
 * `both` (the modern profile, issue 9 point 1): the protected addresses in either
 * direction, `host (A1 or A2)` / `net (N1 or N2)`, so the sensor sees the protected
 * hosts' answers (SYN-ACK, RST, ICMP errors, echo replies) that judge each contact's
 * outcome; the engine's roles keep those answers from ever being a subject. With ICMP on,
 * it adds ARP requests for a protected address and IPv6 neighbour solicitations, the
 * host sweeps of the local link (src/detect/modern/arp-sweep.ts).
 */
export function buildFilter(
  flags: Pick<Flags, 'tcp' | 'udp' | 'icmp' | 'promisc'>,
  addresses: readonly string[],
  nets?: readonly string[],
  addresses6: readonly string[] = [],
  both = false,
): string {
  const nets4 = nets?.filter((n) => !isNet6(n));
  const nets6 = nets?.filter(isNet6) ?? [];
  const dir = both ? '' : 'dst ';
  let v4 = buildFilter4(flags, addresses, nets4, dir);
  // the modern host sweeps on the local link: ARP requests for a protected address, and
  // every neighbour solicitation (its target is in the payload, beyond a filter's reach)
  const link = both && flags.icmp;
  if (link) v4 = `(${v4}) or (arp dst ${flags.promisc ? `net (${(nets4 ?? []).join(' or ')})` : `host (${addresses.join(' or ')})`})`;
  const has6 = flags.promisc ? nets6.length > 0 : addresses6.length > 0;
  if (!has6) return v4;
  let v6 = flags.promisc ? `ip6 and ${dir}net (${nets6.join(' or ')})` : `ip6 and ${dir}host (${addresses6.join(' or ')})`;
  if (link) v6 = `(${v6}) or (icmp6 and ip6[40] == 135)`;
  const has4 = flags.promisc ? (nets4?.length ?? 0) > 0 : addresses.length > 0;
  return has4 ? `(${v4}) or (${v6})` : v6;
}

function buildFilter4(flags: Pick<Flags, 'tcp' | 'udp' | 'icmp' | 'promisc'>, addresses: readonly string[], nets: readonly string[] | undefined, dir: string): string {
  let f = 'ip and (';
  let i = 0;
  if (flags.tcp) {
    f += 'tcp ';
    i++;
  }
  if (flags.udp) f += i++ === 0 ? 'udp ' : 'or udp ';
  if (flags.icmp) f += i === 0 ? 'icmp' : 'or icmp';
  if (flags.promisc) f += `) and ${dir}net (` + (nets ?? []).join(' or ');
  else f += `) and ${dir}host (` + addresses.join(' or ');
  return f + ')';
}

// ---------------------------------------------------------------- the capture

export interface CaptureCounters {
  /** packets that passed the filter, dropped ones included (pcap_stats ps_recv) */
  received: number;
  /** dropped by the kernel: ring buffer full (ps_drop) */
  dropped: number;
  /** dropped by the interface or its driver (ps_ifdrop) */
  ifDropped: number;
  /** packets copied into batches by the capture thread */
  captured: number;
  /** batches handed to JavaScript */
  batches: number;
  /** times the capture thread waited because JavaScript held every batch slot */
  stalls: number;
}

export interface InterfaceStats extends CaptureCounters {
  name: string;
  open: boolean;
  /** bytes captured (record lengths, at most the snapshot length each), counted per batch */
  bytes: number;
}

export interface LiveStats {
  total: CaptureCounters;
  interfaces: InterfaceStats[];
}

export interface LiveOptions {
  log?: Logger;
  /** libpcap snapshot length (default 1500, iplog's SNAPLEN) */
  snaplen?: number;
  /**
   * kernel ring buffer per interface, bytes (default 16 MiB: about 130,000 minimum-size
   * frames, half a second of a 250 kpps flood while the JavaScript thread is descheduled)
   */
  bufferBytes?: number;
  /** TPACKET_V3 block timeout, ms: the longest a packet waits in the kernel (default 10) */
  timeoutMs?: number;
  /** a batch that is not full is handed over after this long, ms (default 20) */
  flushMs?: number;
  /** bytes per batch slot (default 256 KiB) */
  batchBytes?: number;
  /** batch slots per interface (default 4) */
  slots?: number;
  /** retry period for an interface that went down, ms (default 30 000, as iplog) */
  reopenIntervalMs?: number;
  /** the idle clock stays this far behind the wall clock, ms (default 1000) */
  idleLagMs?: number;
  /** period of the idle ticker, ms (default 250) */
  tickMs?: number;
  /** test only: sleep this long in every batch (a slow consumer, to provoke kernel drops) */
  consumerDelayMs?: number;
  /** where frames go; default: the engine's onFrame */
  onFrame?: LiveFrameHandler;
  /** the capture's own iplog lines (`Warning: interface X went down.`...); default: the
   *  engine's output, stamped with the wall second */
  say?: (line: string) => void;
  /** called once when capturing cannot go on, with the whole line
   *  (`Fatal: No more interfaces open for reading.  Exiting.`); the capture is closed */
  onFatal?: (line: string) => void;
  /** an exception from the packet path (e.g. the output closed); default: rethrown */
  onError?: (e: unknown) => void;
  /** tests: a fake addon and a fake wall clock (ms) */
  addon?: NativeAddon;
  now?: () => number;
}

/** A start-up or run-time condition iplog reports as `Fatal: <message>` (exit status 255). */
export class LiveFatal extends IplogError {
  constructor(message: string, code: string) {
    super(message, code, 255);
    this.name = 'LiveFatal';
  }
}

export const LIVE_ERR = {
  NO_INTERFACES: 'IPLOG_ERR_NO_INTERFACES',
  FILTER: 'IPLOG_ERR_BPF_FILTER',
  INTERFACES_GONE: 'IPLOG_ERR_INTERFACES_GONE',
} as const;

/**
 * Lines waiting for reverse DNS beyond which a batch's slot is kept until they are written:
 * the capture thread then runs out of slots and the kernel ring takes the backlog (and drops,
 * counted) instead of memory. Below it, lines are written as their lookups settle (the ticker
 * flushes them).
 */
const HOLD_PENDING_LINES = 4096;

/** At most one kernel-drop warning on the operational log per this many ms. */
const DROP_WARNING_MS = 10_000;

const ZERO: CaptureCounters = { received: 0, dropped: 0, ifDropped: 0, captured: 0, batches: 0, stalls: 0 };

function add(a: CaptureCounters, b: CaptureCounters): CaptureCounters {
  return {
    received: a.received + b.received,
    dropped: a.dropped + b.dropped,
    ifDropped: a.ifDropped + b.ifDropped,
    captured: a.captured + b.captured,
    batches: a.batches + b.batches,
    stalls: a.stalls + b.stalls,
  };
}

/** A pcap file header for the batches of one handle (little-endian, as the addon writes). */
function batchFileHeader(nano: boolean, snaplen: number, linktype: number): Buffer {
  const h = Buffer.alloc(PCAP_FILE_HEADER);
  h.writeUInt32LE(nano ? 0xa1b23c4d : 0xa1b2c3d4, 0);
  h.writeUInt16LE(2, 4);
  h.writeUInt16LE(4, 6);
  h.writeUInt32LE(snaplen, 16);
  h.writeUInt32LE(linktype, 20);
  return h;
}

/**
 * Batch slots of closed handles, kept for the next handle to open. Every SIGHUP (and an
 * interface that comes back up) reopens the interfaces; new slots each time were freed
 * only when the garbage collector got to them, which it seldom does on a heap this small:
 * 1 MiB per restart piled up outside the heap (50 MB over 50 restarts) and fragmented
 * the C heap, so RSS grew by ~100 KiB per restart for good. A closed handle's thread is
 * joined, so its slots are no longer written; what JavaScript read from them was parsed
 * before the batch callback returned (as for any slot the thread refills).
 */
const spareSlots: Buffer[] = [];
/** slot buffers kept at most (16 MiB with the default 256 KiB slots) */
const MAX_SPARE_SLOTS = 64;

function takeSlot(size: number): Buffer {
  for (let k = spareSlots.length - 1; k >= 0; k--) {
    if (spareSlots[k]!.length === size) return spareSlots.splice(k, 1)[0]!;
  }
  return Buffer.allocUnsafeSlow(size);
}

function giveBackSlots(slots: Buffer[]): void {
  for (const b of slots) if (spareSlots.length < MAX_SPARE_SLOTS && !spareSlots.includes(b)) spareSlots.push(b);
}

/** Slot buffers waiting for reuse (tests). */
export function spareSlotCount(): number {
  return spareSlots.length;
}

interface Handle {
  name: string;
  cap: NativeCapture;
  slots: Buffer[];
  parser: PcapParser;
  open: boolean;
}

export class LiveCapture {
  private settings: Settings;
  private engineOf: () => Engine;
  private readonly addon: NativeAddon;
  private readonly log: Logger | undefined;
  private readonly o: Required<Omit<LiveOptions, 'log' | 'onFatal' | 'onError' | 'addon' | 'now' | 'onFrame' | 'say'>>;
  private readonly clock: () => number;
  private readonly handles: Handle[] = [];
  /** counters of handles already closed, by interface name */
  private readonly closedStats = new Map<string, CaptureCounters>();
  /** captured bytes per interface name, added once per batch (metrics) */
  private readonly bytesBy = new Map<string, number>();
  /** interfaces waiting to be reopened, with their retry timers */
  private readonly retrying = new Map<string, NodeJS.Timeout>();
  private ticker: NodeJS.Timeout | undefined;
  private lastDropWarning = -Infinity;
  private reportedDrops = 0;
  private stopped = false;
  private paused = false;
  private endedResolve!: (message: string) => void;
  /** Resolves with the fatal line when no interface is left for reading. */
  readonly ended: Promise<string>;
  private readonly delay: Int32Array | null;

  /** Use startLive() (or captureBackend()). */
  constructor(settings: Settings, engine: Engine | (() => Engine), private readonly opts: LiveOptions = {}) {
    this.settings = settings;
    this.engineOf = typeof engine === 'function' ? engine : () => engine;
    this.addon = opts.addon ?? loadAddon();
    this.log = opts.log;
    this.clock = opts.now ?? Date.now;
    this.o = {
      snaplen: opts.snaplen ?? 1500,
      bufferBytes: opts.bufferBytes ?? 16 * 1024 * 1024,
      timeoutMs: opts.timeoutMs ?? 10,
      flushMs: opts.flushMs ?? 20,
      batchBytes: opts.batchBytes ?? 256 * 1024,
      slots: opts.slots ?? 4,
      reopenIntervalMs: opts.reopenIntervalMs ?? 30_000,
      idleLagMs: opts.idleLagMs ?? 1000,
      tickMs: opts.tickMs ?? 250,
      consumerDelayMs: opts.consumerDelayMs ?? 0,
    };
    this.ended = new Promise((r) => (this.endedResolve = r));
    this.delay = this.o.consumerDelayMs > 0 ? new Int32Array(new SharedArrayBuffer(4)) : null;
  }

  private get engine(): Engine {
    return this.engineOf();
  }

  /**
   * The frame handler of one interface. Network time never goes backwards: interfaces
   * deliver their batches independently, so a frame stamped before the clock is handled
   * at the clock.
   */
  private frameHandler(inject: Injector): FrameHandler {
    const to = this.opts.onFrame;
    if (to !== undefined) {
      return (buf, off, caplen, wirelen, sec, nsec, lt) => {
        const now = this.engineOf().now;
        if (sec < now) {
          sec = now;
          nsec = 0;
        }
        to(buf, off, caplen, wirelen, sec, nsec, lt, inject);
      };
    }
    return (buf, off, caplen, wirelen, sec, nsec, lt) => {
      const e = this.engineOf();
      if (sec < e.now) {
        sec = e.now;
        nsec = 0;
      }
      e.onFrame(buf, off, caplen, wirelen, sec, nsec, lt);
    };
  }

  get interfaces(): string[] {
    return this.handles.filter((h) => h.open).map((h) => h.name);
  }

  /** Open every selected interface; LiveFatal when none could be opened. */
  openAll(): void {
    const chosen = selectInterfaces(ipv4Interfaces(systemAddresses(this.addon)), this.settings.interfaces);
    for (const i of chosen) {
      const h = this.openOne(i);
      if (h === null) this.say(`Warning: unable to open ${i.name}`);
      else this.handles.push(h);
    }
    if (this.handles.length === 0) throw new LiveFatal("Couldn't initialize interfaces.", LIVE_ERR.NO_INTERFACES);
    if (this.ticker === undefined) {
      this.ticker = setInterval(() => this.tick(), this.o.tickMs);
      this.ticker.unref();
    }
  }

  /**
   * open_pcap_device(): null when libpcap cannot open it or its link type is not one we
   * decode; LiveFatal when the filter does not compile (as the original, which exits).
   */
  private openOne(i: Interface): Handle | null {
    let cap: NativeCapture;
    try {
      cap = new this.addon.Capture(i.name, {
        snaplen: this.o.snaplen,
        promisc: this.settings.flags.promisc,
        bufferSize: this.o.bufferBytes,
        timeoutMs: this.o.timeoutMs,
      });
    } catch (e) {
      this.log?.warn({ iface: i.name, err: (e as Error).message }, 'cannot open interface');
      return null;
    }
    const dl = cap.datalink();
    if (!isSupportedLinktype(dl)) {
      this.log?.warn({ iface: i.name, linktype: dl }, 'unsupported link type');
      cap.close();
      return null;
    }
    const w = cap.warning();
    if (w !== null) this.log?.warn({ iface: i.name, warning: w }, 'libpcap warning');
    // pcap filters "don't work on Linux loopback devices" (iplog_pcap.c): none there
    if (!i.loopback) {
      const text = buildFilter(this.settings.flags, i.addresses, this.settings.promiscNets, i.addresses6, this.settings.profile === 'modern');
      try {
        cap.setFilter(text);
      } catch (e) {
        cap.close();
        throw new LiveFatal((e as Error).message, LIVE_ERR.FILTER);
      }
      this.log?.info({ iface: i.name, filter: text }, 'filter');
    }
    const slots: Buffer[] = [];
    const size = Math.max(this.o.batchBytes, this.o.snaplen + 16);
    for (let k = 0; k < this.o.slots; k++) slots.push(takeSlot(size));
    const self = this;
    const inject: Injector = (frame) => {
      try {
        return cap.inject(frame) === frame.length;
      } catch {
        return false;
      }
    };
    const parser = new PcapParser(
      {
        name: i.name,
        get anomalies() {
          return self.engine.an;
        },
        onLinktype: undefined,
      },
      this.frameHandler(inject),
    );
    parser.parse(batchFileHeader(cap.nanosecond(), this.o.snaplen, dl), 0, PCAP_FILE_HEADER, 0);
    const h: Handle = { name: i.name, cap, slots, parser, open: true };
    cap.start(slots, this.o.flushMs, (kind, a, b, c) => {
      if (kind === 0) return this.onBatch(h, a, b as number, c);
      this.onCaptureError(h, a, b as string);
      return undefined;
    });
    this.log?.info({ iface: i.name, linktype: dl, nanosecond: cap.nanosecond(), promisc: this.settings.flags.promisc }, 'capturing');
    return h;
  }

  private onBatch(h: Handle, slot: number, bytes: number, packets: number): boolean {
    // the addon drops the batches of a closed handle; its slots may be another's now
    if (!h.open) return false;
    // the batch is pcap records: a 16-byte header before each packet's captured bytes
    this.bytesBy.set(h.name, (this.bytesBy.get(h.name) ?? 0) + bytes - 16 * packets);
    try {
      if (this.delay !== null) Atomics.wait(this.delay, 0, 0, this.o.consumerDelayMs);
      const buf = h.slots[slot]!;
      const end = h.parser.parse(buf, 0, bytes, 0);
      if (end !== bytes) this.log?.error({ iface: h.name, bytes, end }, 'batch with an incomplete record');
      const out = this.engine.out;
      out.sink.flush();
      if (out.pending() < HOLD_PENDING_LINES) return false;
      // many lines wait for reverse DNS: keep this slot until they are written
      out.idle().then(
        () => {
          h.cap.release(slot);
          this.flush();
        },
        (e: unknown) => this.fail(e),
      );
      return true;
    } catch (e) {
      this.fail(e);
      return false;
    }
  }

  private fail(e: unknown): void {
    if (this.opts.onError !== undefined) this.opts.onError(e);
    else throw e;
  }

  private flush(): void {
    try {
      this.engine.out.sink.flush();
    } catch (e) {
      this.fail(e);
    }
  }

  /** libpcap ended the capture: the device disappeared, or a read error. */
  private onCaptureError(h: Handle, code: number, text: string): void {
    this.log?.warn({ iface: h.name, code, err: text }, 'capture ended');
    this.wentDown(h);
  }

  /** Lines of the capture itself, in order with the packet lines, at the wall second. */
  private say(text: string): void {
    if (this.opts.say !== undefined) {
      this.opts.say(text);
      return;
    }
    const out = this.engine.out;
    const now = Math.floor(this.clock() / 1000);
    const write = (): void => {
      try {
        out.sink.write(now, text);
        out.sink.flush();
      } catch (e) {
        this.fail(e);
      }
    };
    // after the lines already waiting for names
    if (out.pending() === 0) write();
    else out.idle().then(write, (e: unknown) => this.fail(e));
  }

  private closeHandle(h: Handle): void {
    if (!h.open) return;
    h.open = false;
    h.cap.close();
    // the capture thread is joined: the slots can go to the next handle
    giveBackSlots(h.slots);
    const prev = this.closedStats.get(h.name) ?? ZERO;
    this.closedStats.set(h.name, add(prev, h.cap.stats()));
    const k = this.handles.indexOf(h);
    if (k >= 0) this.handles.splice(k, 1);
  }

  private wentDown(h: Handle): void {
    if (!h.open || this.stopped) return;
    this.closeHandle(h);
    this.say(`Warning: interface ${h.name} went down.`);
    if (!this.addon.canRawSocket()) {
      this.say(`Interface ${h.name} cannot be brought back up.`);
      if (this.handles.length === 0 && this.retrying.size === 0) this.fatal('Fatal: No more interfaces open for reading.  Exiting.');
      return;
    }
    this.retry(h.name);
  }

  /** The reopen loop of read_packets(): try now, then every reopenIntervalMs. */
  private retry(name: string): void {
    if (this.stopped) return;
    this.retrying.delete(name);
    if (this.reopen(name)) return;
    const t = setTimeout(() => this.retry(name), this.o.reopenIntervalMs);
    this.retrying.set(name, t);
  }

  private reopen(name: string): boolean {
    const i = selectInterfaces(ipv4Interfaces(systemAddresses(this.addon)), [name]).find((x) => x.name === name);
    if (i === undefined) return false;
    let h: Handle | null;
    try {
      h = this.openOne(i);
    } catch (e) {
      this.log?.warn({ iface: name, err: (e as Error).message }, 'reopen failed');
      h = null;
    }
    if (h === null) {
      this.say(`Warning: unable to open ${name}`);
      return false;
    }
    if (name !== ANY_DEVICE && (this.addon.ifFlags(name) & IFF_UP) === 0) {
      h.cap.close();
      h.open = false;
      giveBackSlots(h.slots);
      return false;
    }
    this.handles.push(h);
    this.say(`Interface ${name} was reopened.`);
    return true;
  }

  private fatal(line: string): void {
    if (this.stopped) return;
    this.close();
    if (this.opts.onFatal !== undefined) this.opts.onFatal(line);
    this.endedResolve(line);
  }

  /** Is any captured packet still on its way to JavaScript? */
  private inFlight(): boolean {
    for (const h of this.handles) if (h.open && h.cap.pending() > 0) return true;
    return false;
  }

  private tick(): void {
    if (this.stopped || this.paused) return;
    // links that went down (IFF_UP cleared, or the device gone)
    for (const h of [...this.handles]) {
      if (h.name === ANY_DEVICE) continue;
      const f = this.addon.ifFlags(h.name);
      if (f < 0 || (f & IFF_UP) === 0) this.wentDown(h);
    }
    if (this.stopped) return;
    const ms = this.clock();
    if (!this.inFlight()) {
      const target = Math.floor((ms - this.o.idleLagMs) / 1000);
      if (target > this.engine.now) {
        try {
          this.engine.advance(target);
        } catch (e) {
          this.fail(e);
        }
      }
    }
    this.flush();
    if (ms - this.lastDropWarning >= DROP_WARNING_MS) this.reportDrops(ms);
  }

  /** A warning on the operational log when the kernel dropped packets since the last one. */
  private reportDrops(ms: number): void {
    const s = this.stats();
    if (s.total.dropped > this.reportedDrops) {
      this.lastDropWarning = ms;
      this.log?.warn(
        { dropped: s.total.dropped - this.reportedDrops, total: s.total.dropped, interfaces: s.interfaces.filter((i) => i.dropped > 0).map((i) => ({ name: i.name, dropped: i.dropped })) },
        'packets dropped by the kernel (capture buffer full)',
      );
      this.reportedDrops = s.total.dropped;
    }
  }

  stats(): LiveStats {
    const by = new Map<string, InterfaceStats>();
    for (const [name, c] of this.closedStats) by.set(name, { name, open: false, bytes: this.bytesBy.get(name) ?? 0, ...c });
    for (const h of this.handles) {
      const prev = by.get(h.name);
      const c = add(prev ?? ZERO, h.cap.stats());
      by.set(h.name, { name: h.name, open: h.open, bytes: this.bytesBy.get(h.name) ?? 0, ...c });
    }
    const interfaces = [...by.values()];
    const total = interfaces.reduce<CaptureCounters>((t, i) => add(t, i), ZERO);
    return { total, interfaces };
  }

  /**
   * SIGHUP (spec §2.7): from now on frames go to `engine`. If the process can still open
   * raw sockets, every interface is closed and the selection, filters and promiscuous
   * mode are redone from `settings` (LiveFatal if none opens); otherwise the open
   * handles are kept as they are (the original reopens only when it still can).
   */
  restart(settings: Settings, engine: Engine | (() => Engine)): void {
    this.settings = settings;
    this.engineOf = typeof engine === 'function' ? engine : () => engine;
    this.paused = false;
    if (!this.addon.canRawSocket()) return;
    for (const t of this.retrying.values()) clearTimeout(t);
    this.retrying.clear();
    for (const h of [...this.handles]) this.closeHandle(h);
    this.openAll();
  }

  /** pcap_inject on the named interface (default: the first open one); bytes written. */
  inject(bytes: Uint8Array, name?: string): number {
    const h = this.handles.find((x) => x.open && (name === undefined || x.name === name));
    if (h === undefined) throw new Error(`no open interface${name === undefined ? '' : ` named ${name}`}`);
    return h.cap.inject(bytes);
  }

  /** Hold the idle ticker (clock and flushes) while engine or sink are being replaced. */
  pause(): void {
    this.paused = true;
  }

  resume(): void {
    this.paused = false;
  }

  /** Stop capturing: threads joined, timers cleared; batches not yet delivered are dropped. */
  close(): void {
    if (this.stopped) return;
    this.stopped = true;
    if (this.ticker !== undefined) clearInterval(this.ticker);
    for (const t of this.retrying.values()) clearTimeout(t);
    this.retrying.clear();
    for (const h of [...this.handles]) this.closeHandle(h);
  }
}

/**
 * Open the interfaces of `settings` and start feeding `engine`. Lines such as
 * `Warning: unable to open X` go to the engine's output. Throws LiveFatal ("Couldn't
 * initialize interfaces.", or a filter that does not compile) and IplogError
 * IPLOG_ERR_LIVE_UNAVAILABLE when the addon is missing.
 */
export async function startLive(settings: Settings, engine: Engine | (() => Engine), opts: LiveOptions = {}): Promise<LiveCapture> {
  const live = new LiveCapture(settings, engine, opts);
  try {
    live.openAll();
  } catch (e) {
    live.close();
    throw e;
  }
  return live;
}

/** Record locks for the pid file: the addon's fcntl helpers. */
export interface LockOps {
  lockFile(fd: number): boolean;
  lockOwner(fd: number): number;
}

/** The capture layer as the daemon (src/daemon.ts CaptureBackend) uses it. */
export interface LiveBackend {
  open(
    s: Settings,
    onFrame: LiveFrameHandler,
    warn: (line: string) => void,
    fatal: (line: string) => void,
    engine: () => Engine,
  ): { stats(): CaptureCounters; interfaces(): InterfaceSnapshot[]; close(): void; pause(): void; resume(): void; live: LiveCapture };
  locks: LockOps;
  canCapture(): boolean;
}

/**
 * The daemon's capture backend: open() = startLive() with the daemon's frame handler,
 * line writer and fatal handler (throws LiveFatal when no interface opens); stats() are
 * the totals over the interfaces.
 */
export function captureBackend(opts: Omit<LiveOptions, 'onFrame' | 'say' | 'onFatal'> = {}): LiveBackend {
  return {
    open(s, onFrame, warn, fatal, engine) {
      const live = new LiveCapture(s, engine, { ...opts, onFrame, say: warn, onFatal: fatal });
      try {
        live.openAll();
      } catch (e) {
        live.close();
        throw e;
      }
      return {
        live,
        stats: () => live.stats().total,
        interfaces: () =>
          live.stats().interfaces.map((i) => ({ name: i.name, open: i.open, received: i.received, captured: i.captured, capturedBytes: i.bytes, kernelDrops: i.dropped, ifDrops: i.ifDropped })),
        close: () => live.close(),
        pause: () => live.pause(),
        resume: () => live.resume(),
      };
    },
    locks: {
      lockFile: (fd) => (opts.addon ?? loadAddon()).lockFile(fd),
      lockOwner: (fd) => (opts.addon ?? loadAddon()).lockOwner(fd),
    },
    canCapture: () => (opts.addon ?? loadAddon()).canRawSocket(),
  };
}
