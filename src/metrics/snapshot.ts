/**
 * The sensor's counters at one moment: what `--metrics` serves (src/metrics/prometheus.ts)
 * and what the status file holds (src/metrics/status.ts, `iplog status`).
 *
 * Nothing here runs per packet. The counters already exist where the work is done
 * (capture statistics, the engine's packet count, the anomaly slots, the tables' sizes,
 * the ban manager's, resolver's and syslog sink's stats); a snapshot reads them when it is
 * asked for (a scrape, a status write every few seconds). The one counter added for this
 * is EventCounts, which counts events (one per iplog line, never per packet).
 */
import type { IplogEvent } from '../output/event';

export interface InterfaceSnapshot {
  name: string;
  /** the interface is open now (false: went down, being retried) */
  open: boolean;
  /** packets the kernel filter passed, dropped ones included (pcap_stats ps_recv) */
  received: number;
  /** packets copied to the sensor */
  captured: number;
  /** bytes copied to the sensor (captured lengths, at most the snapshot length each) */
  capturedBytes: number;
  /** dropped by the kernel: capture buffer full (ps_drop) */
  kernelDrops: number;
  /** dropped by the interface or its driver (ps_ifdrop) */
  ifDrops: number;
}

export interface TableSnapshot {
  /** `scan`, `frag`, `dns_cache`, `ban`, ... */
  name: string;
  entries: number;
  /** the bound, when the table has a fixed one */
  capacity: number | null;
  evictions: number;
  /** of the evictions, those of entries that held evidence (the modern tables' pinned entries) */
  evidenceEvictions?: number;
}

export interface SensorSnapshot {
  /** seconds since the epoch */
  time: number;
  interfaces: InterfaceSnapshot[];
  /** frames handed to the engine (every interface, every engine of the process) */
  packets: number;
  ipv4Packets: number;
  /** iplog lines written */
  lines: number;
  /** frames dropped while a SIGHUP restart swapped the engine */
  droppedInRestart: number;
  /** every anomaly counter, by name (docs/architecture.md) */
  anomalies: Record<string, number>;
  /** events (one per line) by kind */
  events: Record<string, number>;
  /** detections by detector (scan.detected per detector, bogus flags, traceroutes, fragment attacks) */
  detections: Record<string, number>;
  tables: TableSnapshot[];
  bans: BanSnapshot | null;
  dns: DnsSnapshot | null;
  syslog: SyslogSnapshot | null;
}

export interface BanSnapshot {
  backend: string | null;
  /** bans in force */
  active: number;
  bans: number;
  unbans: number;
  /** refusals by reason (`allow`, `budget`, `table_full`, ...) */
  refusals: Record<string, number>;
  /** firewall commands run, finally failed, retried, dropped (queue full); null for dry-run */
  commands: { run: number; failed: number; retried: number; dropped: number } | null;
  /** the rest of the manager's counters, by name */
  other: Record<string, number>;
}

export interface DnsSnapshot {
  queries: number;
  timeouts: number;
  failures: number;
  cacheHits: number;
  hostsHits: number;
  coalesced: number;
  /** lookups refused because the queue was full */
  dropped: number;
}

export interface SyslogSnapshot {
  target: string;
  sent: number;
  dropped: number;
  rejected: number;
  /** lines waiting now */
  queued: number;
  maxQueued: number;
  outages: number;
  reconnects: number;
}

/** Detector of an event that is a detection, else null. */
export function detectorOf(ev: IplogEvent): string | null {
  switch (ev.kind) {
    case 'scan.detected':
      return ev.detector;
    case 'tcp.bogus_flags':
      return 'bogus-flags';
    case 'udp.traceroute':
      return 'traceroute';
    case 'frag.oversized':
    case 'frag.duplicate':
    case 'frag.overlap':
    case 'frag.tiny':
      return ev.kind.replace('.', '-');
    default:
      return null;
  }
}

/**
 * Events by kind and detections by detector, over the life of the process. Subscribe
 * `onEvent` to every engine's emitter (Emitter.subscribe); it runs once per line written.
 * Kinds and detectors are a closed set fixed by the code, so the maps stay small.
 */
export class EventCounts {
  readonly kinds = new Map<string, number>();
  readonly detectors = new Map<string, number>();

  readonly onEvent = (ev: IplogEvent): void => {
    this.kinds.set(ev.kind, (this.kinds.get(ev.kind) ?? 0) + 1);
    const d = detectorOf(ev);
    if (d !== null) this.detectors.set(d, (this.detectors.get(d) ?? 0) + 1);
  };
}

/** Snake case of a camelCase counter name (`refusedTableFull` → `refused_table_full`). */
export function snake(name: string): string {
  return name.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
}

/**
 * A ban manager's `stats` object, read generically (the manager may grow counters):
 * `bans`, `unbans`, `refusedX` as refusals by reason, everything else by name.
 */
export function banSnapshot(
  stats: Readonly<Record<string, unknown>>,
  active: number,
  backend: string | null,
  commands: { commands: number; failed: number; retried: number; dropped: number } | null,
): BanSnapshot {
  const refusals: Record<string, number> = {};
  const other: Record<string, number> = {};
  for (const [k, v] of Object.entries(stats)) {
    if (typeof v !== 'number' || k === 'bans' || k === 'unbans') continue;
    const m = /^refused([A-Z]\w*)$/.exec(k);
    if (m) refusals[snake(m[1]![0]!.toLowerCase() + m[1]!.slice(1))] = v;
    else other[snake(k)] = v;
  }
  return {
    backend,
    active,
    bans: typeof stats.bans === 'number' ? stats.bans : 0,
    unbans: typeof stats.unbans === 'number' ? stats.unbans : 0,
    refusals,
    commands: commands === null ? null : { run: commands.commands, failed: commands.failed, retried: commands.retried, dropped: commands.dropped },
    other,
  };
}
