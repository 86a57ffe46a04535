/**
 * What the live sensor (src/daemon.ts) shows of itself: the counters snapshot, the
 * `--metrics` listener (only when asked for) and the status file next to the pid file.
 *
 * The daemon hands over read-only accessors to its parts; nothing here is called per
 * packet. The event counter is subscribed to each engine's emitter (one call per line).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Settings } from '../config/settings';
import type { Anomalies } from '../decode/anomalies';
import { ANOMALY_NAMES } from '../decode/anomalies';
import type { Logger } from '../log';
import type { Engine } from '../pipeline';
import type { LineSink } from '../output/sinks/sink';
import type { ResolveStats } from '../output/resolve';
import type { CaptureHandle } from '../capture/handle';
import { EventCounts, type BanSnapshot, type InterfaceSnapshot, type SensorSnapshot, type SyslogSnapshot, type TableSnapshot } from './snapshot';
import { StatusWriter, STATUS_SCHEMA, type StatusDoc } from './status';
import type { MetricsServer } from './prometheus';

/** Scan table geometry (src/detect/scan-table.ts): 4 pairs per bucket. */
const SCAN_PAIRS_PER_BUCKET = 4;

/** This program's version (package.json), or 'unknown'. */
export function projectVersion(): string {
  try {
    return (JSON.parse(readFileSync(join(__dirname, '..', '..', '..', 'package.json'), 'utf8')) as { version?: string }).version ?? 'unknown';
  } catch {
    return 'unknown';
  }
}

export interface SensorParts {
  engine(): Engine;
  capture(): CaptureHandle | null;
  /** counters of the engines and captures a restart replaced */
  readonly totals: { packets: number; ipv4: number; lines: number; droppedInRestart: number };
  readonly anomalies: Anomalies;
  renderer(): { readonly stats: ResolveStats; cacheEntries(): number } | null;
  /** the text sink (a syslog sink has `stats` and `queued`) */
  text(): LineSink | null;
  bans(): BanSnapshot | null;
}

interface SyslogLike {
  readonly stats: { target: string; sent: number; dropped: number; rejected: number; maxQueued: number; outages: number; reconnects: number };
  readonly queued: number;
}

function syslogOf(sink: LineSink | null): SyslogSnapshot | null {
  const t = sink as unknown as Partial<SyslogLike> | null;
  if (t === null || typeof t.stats !== 'object' || t.stats === null || typeof t.queued !== 'number' || typeof t.stats.target !== 'string') return null;
  const s = t.stats;
  return { target: s.target, sent: s.sent, dropped: s.dropped, rejected: s.rejected, queued: t.queued, maxQueued: s.maxQueued, outages: s.outages, reconnects: s.reconnects };
}

export class SensorMetrics {
  readonly events = new EventCounts();
  readonly started = Math.floor(Date.now() / 1000);
  private server: MetricsServer | null = null;
  private status: StatusWriter | null = null;
  private mode = 'foreground';
  /** per-interface counters of the captures a restart closed */
  private readonly closed = new Map<string, InterfaceSnapshot>();
  private readonly onUsr1 = (): void => this.status?.write();

  constructor(
    private readonly s: Settings,
    private readonly log: Logger,
    private readonly parts: SensorParts,
  ) {}

  /** The counters now. */
  snapshot(): SensorSnapshot {
    const p = this.parts;
    const e = p.engine();
    const t = p.totals;
    const byName = new Map<string, InterfaceSnapshot>();
    for (const [n, c] of this.closed) byName.set(n, { ...c, open: false });
    for (const i of p.capture()?.interfaces?.() ?? []) {
      const prev = byName.get(i.name);
      byName.set(i.name, prev === undefined ? { ...i } : {
        name: i.name,
        open: i.open,
        received: prev.received + i.received,
        captured: prev.captured + i.captured,
        capturedBytes: prev.capturedBytes + i.capturedBytes,
        kernelDrops: prev.kernelDrops + i.kernelDrops,
        ifDrops: prev.ifDrops + i.ifDrops,
      });
    }
    const anomalies: Record<string, number> = {};
    for (const n of ANOMALY_NAMES) anomalies[n] = p.anomalies.get(n);
    const r = p.renderer();
    const tables: TableSnapshot[] = [];
    if (e !== null && e !== undefined) {
      tables.push({ name: 'scan', entries: e.scans.size(), capacity: e.scans.buckets * SCAN_PAIRS_PER_BUCKET, evictions: p.anomalies.get('scan.evicted') });
      tables.push({ name: 'frag', entries: e.frags.size(), capacity: null, evictions: p.anomalies.get('frag.evicted') });
      const m = e.modern;
      if (m !== null) {
        // the modern profile's tables (src/detect/modern/): evictions over the process's life (every engine)
        tables.push({ name: 'modern_contacts', entries: m.contacts.size, capacity: m.contacts.capacity, evictions: p.anomalies.get('modern.contact_evicted'), evidenceEvictions: p.anomalies.get('modern.contact_evicted_evidence') });
        tables.push({ name: 'modern_sources', entries: m.sources.size, capacity: m.sources.capacity, evictions: p.anomalies.get('modern.source_evicted'), evidenceEvictions: p.anomalies.get('modern.source_evicted_evidence') });
        // sources with one resolved contact, not yet given a record (engine.ts admitOrFind)
        tables.push({ name: 'modern_admission', entries: m.admit.size, capacity: m.admit.capacity, evictions: p.anomalies.get('modern.admission_evicted') });
        // first SYNs of sources without a record, not yet contacts (engine.ts tierAdmits); evictions of those still waiting or standing for an admission entry
        tables.push({ name: 'modern_syn_tier', entries: m.tier.size, capacity: m.tier.capacity, evictions: p.anomalies.get('modern.syn_tier_evicted') });
        const g = m.aggs.agg.t;
        tables.push({ name: 'modern_aggregates', entries: g.size, capacity: g.capacity, evictions: p.anomalies.get('modern.aggregate_evicted'), evidenceEvictions: p.anomalies.get('modern.aggregate_evicted_evidence') });
      }
    }
    if (r !== null) tables.push({ name: 'dns_cache', entries: r.cacheEntries(), capacity: null, evictions: r.stats.evictions });
    const rs = r?.stats;
    return {
      time: Math.floor(Date.now() / 1000),
      interfaces: [...byName.values()],
      packets: t.packets + (e?.packets ?? 0),
      ipv4Packets: t.ipv4 + (e?.ipv4Packets ?? 0),
      lines: t.lines + (e?.out.lines ?? 0),
      droppedInRestart: t.droppedInRestart,
      anomalies,
      events: Object.fromEntries(this.events.kinds),
      detections: Object.fromEntries(this.events.detectors),
      tables,
      bans: p.bans(),
      dns:
        rs === undefined
          ? null
          : { queries: rs.lookups, timeouts: rs.timeouts, failures: rs.failures, cacheHits: rs.cacheHits, hostsHits: rs.hostsHits, coalesced: rs.coalesced, dropped: rs.dropped },
      syslog: syslogOf(p.text()),
    };
  }

  /** Start --metrics if asked for; a problem text (for a Fatal line) if it cannot listen. */
  async listen(): Promise<string | undefined> {
    const a = this.s.metrics;
    if (a === undefined) return undefined;
    // loaded only when asked for: without --metrics, prom-client is never even required
    const { buildRegistry, serveMetrics } = await import('./prometheus');
    const reg = buildRegistry(() => this.snapshot(), { version: projectVersion(), profile: this.s.profile, mode: 'live' }, this.started);
    try {
      this.server = await serveMetrics(a, reg);
    } catch (e) {
      const err = e as NodeJS.ErrnoException;
      this.log.error({ code: 'IPLOG_ERR_METRICS_LISTEN', host: a.host, port: a.port, err: err.message }, 'metrics: cannot listen');
      return `Unable to serve metrics on ${a.host}:${a.port}: ${err.code ?? err.message}`;
    }
    const where = this.server.address;
    this.log.info({ host: where.host, port: where.port, path: '/metrics' }, 'metrics listening');
    return undefined;
  }

  /** Where --metrics listens, `HOST:PORT` (IPv6 in brackets), or null. */
  metricsAddress(): string | null {
    const a = this.server?.address;
    if (a === undefined) return null;
    return `${a.host.includes(':') ? `[${a.host}]` : a.host}:${a.port}`;
  }

  /** Begin rewriting the status file (every few seconds and at SIGUSR1). */
  startStatus(mode: string): void {
    this.mode = mode;
    this.status = new StatusWriter(this.s.pidFile, () => this.statusDoc(), this.log);
    this.status.start();
    process.on('SIGUSR1', this.onUsr1);
  }

  statusDoc(): StatusDoc {
    const counters = this.snapshot();
    return {
      schema: STATUS_SCHEMA,
      pid: process.pid,
      version: projectVersion(),
      profile: this.s.profile,
      mode: this.mode,
      started: this.started,
      updated: counters.time,
      pidFile: this.s.pidFile,
      interfaces: counters.interfaces.map((i) => i.name),
      metrics: this.metricsAddress(),
      counters,
    };
  }

  /** A restart is about to close `capture`: keep its per-interface counters. */
  captureClosed(capture: CaptureHandle): void {
    for (const i of capture.interfaces?.() ?? []) {
      const prev = this.closed.get(i.name);
      this.closed.set(
        i.name,
        prev === undefined
          ? { ...i }
          : { ...i, received: prev.received + i.received, captured: prev.captured + i.captured, capturedBytes: prev.capturedBytes + i.capturedBytes, kernelDrops: prev.kernelDrops + i.kernelDrops, ifDrops: prev.ifDrops + i.ifDrops },
      );
    }
  }

  /** The sensor stops: no more status file, no more listener. */
  stop(): void {
    process.removeListener('SIGUSR1', this.onUsr1);
    this.status?.stop();
    this.status = null;
    const srv = this.server;
    this.server = null;
    void srv?.close();
  }
}
