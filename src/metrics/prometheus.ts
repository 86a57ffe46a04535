/**
 * `--metrics HOST:PORT`: the sensor's counters in Prometheus text format on
 * `GET /metrics` (prom-client), and nothing else (other paths: 404, other methods: 405).
 *
 * No listener exists unless --metrics is given. Every metric has a collect() callback that
 * reads one snapshot (src/metrics/snapshot.ts) taken when the scrape starts, so the packet
 * path does no extra work for metrics: the counters it already keeps are read at scrape
 * time. Metric names and meanings: docs/operations.md "Metrics".
 */
import { createServer, type Server } from 'node:http';
import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import { ANOMALY_NAMES } from '../decode/anomalies';
import type { SensorSnapshot } from './snapshot';
import type { MetricsAddress } from './address';

type Labels = Record<string, string>;

/** A counter whose value is read from the snapshot at scrape time. */
function counter(reg: Registry, name: string, help: string, labelNames: string[], read: (s: SensorSnapshot) => [Labels, number][] | number, snap: () => SensorSnapshot): void {
  new Counter({
    name,
    help,
    labelNames,
    registers: [reg],
    collect() {
      this.reset();
      const v = read(snap());
      if (typeof v === 'number') this.inc(v);
      else for (const [l, n] of v) this.inc(l, n);
    },
  });
}

function gauge(reg: Registry, name: string, help: string, labelNames: string[], read: (s: SensorSnapshot) => [Labels, number][] | number, snap: () => SensorSnapshot): void {
  new Gauge({
    name,
    help,
    labelNames,
    registers: [reg],
    collect() {
      this.reset();
      const v = read(snap());
      if (typeof v === 'number') this.set(v);
      else for (const [l, n] of v) this.set(l, n);
    },
  });
}

const byKey = (label: string, rec: Record<string, number>): [Labels, number][] => Object.entries(rec).map(([k, v]) => [{ [label]: k }, v]);

/**
 * The registry of one sensor. `read()` is called once per scrape; the metrics read its
 * result. `info` labels the `iplog_info` gauge.
 */
export function buildRegistry(read: () => SensorSnapshot, info: { version: string; profile: string; mode: string }, startTime: number): Registry {
  const reg = new Registry();
  let current: SensorSnapshot | null = null;
  const snap = (): SensorSnapshot => (current ??= read());
  // a scrape starts: forget the previous snapshot (metrics() calls every collect() in turn)
  const origMetrics = reg.metrics.bind(reg);
  reg.metrics = async () => {
    current = null;
    try {
      return await origMetrics();
    } finally {
      current = null;
    }
  };

  gauge(reg, 'iplog_info', 'iplog version, profile and mode (always 1)', ['version', 'profile', 'mode'], () => [[info, 1]], snap);
  gauge(reg, 'iplog_start_time_seconds', 'when the sensor started, seconds since the epoch', [], () => startTime, snap);

  // capture, per interface
  const ifaces = (f: (i: SensorSnapshot['interfaces'][number]) => number) => (s: SensorSnapshot): [Labels, number][] => s.interfaces.map((i) => [{ interface: i.name }, f(i)]);
  gauge(reg, 'iplog_interface_up', 'the interface is open for capture (0: down, being retried)', ['interface'], ifaces((i) => (i.open ? 1 : 0)), snap);
  counter(reg, 'iplog_interface_received_packets_total', 'packets the capture filter passed, kernel drops included (pcap_stats ps_recv)', ['interface'], ifaces((i) => i.received), snap);
  counter(reg, 'iplog_interface_packets_total', 'packets captured and handed to the sensor', ['interface'], ifaces((i) => i.captured), snap);
  counter(reg, 'iplog_interface_bytes_total', 'bytes captured (each packet up to the snapshot length)', ['interface'], ifaces((i) => i.capturedBytes), snap);
  counter(reg, 'iplog_interface_kernel_drops_total', 'packets the kernel dropped: capture buffer full (pcap_stats ps_drop)', ['interface'], ifaces((i) => i.kernelDrops), snap);
  counter(reg, 'iplog_interface_drops_total', 'packets dropped by the interface or its driver (pcap_stats ps_ifdrop)', ['interface'], ifaces((i) => i.ifDrops), snap);

  // the engine
  counter(reg, 'iplog_packets_total', 'frames the engine handled', [], (s) => s.packets, snap);
  counter(reg, 'iplog_ipv4_packets_total', 'valid IPv4 packets the engine handled', [], (s) => s.ipv4Packets, snap);
  counter(reg, 'iplog_lines_total', 'iplog lines written', [], (s) => s.lines, snap);
  counter(reg, 'iplog_restart_dropped_packets_total', 'frames dropped while a SIGHUP restart swapped the engine', [], (s) => s.droppedInRestart, snap);
  counter(reg, 'iplog_decode_anomalies_total', 'malformed or unexpected input, by anomaly (docs/architecture.md)', ['anomaly'], (s) => ANOMALY_NAMES.map((n) => [{ anomaly: n }, s.anomalies[n] ?? 0] as [Labels, number]), snap);
  counter(reg, 'iplog_events_total', 'events (one per iplog line) by kind (docs/json-events.md)', ['kind'], (s) => byKey('kind', s.events), snap);
  counter(reg, 'iplog_detections_total', 'detections by detector', ['detector'], (s) => byKey('detector', s.detections), snap);

  // tables
  gauge(reg, 'iplog_table_entries', 'entries in a bounded table', ['table'], (s) => s.tables.map((t) => [{ table: t.name }, t.entries]), snap);
  gauge(reg, 'iplog_table_capacity', 'the bound of a table', ['table'], (s) => s.tables.filter((t) => t.capacity !== null).map((t) => [{ table: t.name }, t.capacity!]), snap);
  counter(reg, 'iplog_table_evictions_total', 'entries a full table evicted', ['table'], (s) => s.tables.map((t) => [{ table: t.name }, t.evictions]), snap);
  counter(reg, 'iplog_table_evidence_evictions_total', 'of the entries a full table evicted, those that held evidence (modern tables: pinned entries)', ['table'], (s) => s.tables.filter((t) => t.evidenceEvictions !== undefined).map((t) => [{ table: t.name }, t.evidenceEvictions!]), snap);

  // bans, reverse DNS and syslog: registered only when that part is on at start-up
  const first = read();

  // bans (only when banning is on)
  if (first.bans !== null) {
    const bans = (f: (b: NonNullable<SensorSnapshot['bans']>) => [Labels, number][] | number) => (s: SensorSnapshot): [Labels, number][] => {
      if (s.bans === null) return [];
      const v = f(s.bans);
      return typeof v === 'number' ? [[{}, v]] : v;
    };
    gauge(reg, 'iplog_bans_active', 'bans in force', [], bans((b) => b.active), snap);
    counter(reg, 'iplog_bans_total', 'bans made', [], bans((b) => b.bans), snap);
    counter(reg, 'iplog_unbans_total', 'bans lifted', [], bans((b) => b.unbans), snap);
    counter(reg, 'iplog_ban_refusals_total', 'bans refused, by reason (allow: allowlisted, budget: ban budget spent, table_full: ban table full)', ['reason'], bans((b) => byKey('reason', b.refusals)), snap);
    counter(reg, 'iplog_ban_manager_total', 'the other counters of the ban manager, by name', ['counter'], bans((b) => byKey('counter', b.other)), snap);
    counter(reg, 'iplog_ban_commands_total', 'firewall commands run', [], bans((b) => (b.commands === null ? [] : b.commands.run)), snap);
    counter(reg, 'iplog_ban_command_failures_total', 'firewall commands that finally failed (backend failures)', [], bans((b) => (b.commands === null ? [] : b.commands.failed)), snap);
    counter(reg, 'iplog_ban_command_retries_total', 'firewall commands retried', [], bans((b) => (b.commands === null ? [] : b.commands.retried)), snap);
    counter(reg, 'iplog_ban_commands_dropped_total', 'firewall commands dropped: command queue full', [], bans((b) => (b.commands === null ? [] : b.commands.dropped)), snap);
  }

  // reverse DNS (only when the resolver is on)
  if (first.dns !== null) {
    const dns = (f: (d: NonNullable<SensorSnapshot['dns']>) => number) => (s: SensorSnapshot): [Labels, number][] => (s.dns === null ? [] : [[{}, f(s.dns)]]);
    counter(reg, 'iplog_dns_queries_total', 'reverse DNS queries sent', [], dns((d) => d.queries), snap);
    counter(reg, 'iplog_dns_timeouts_total', 'reverse DNS queries that timed out', [], dns((d) => d.timeouts), snap);
    counter(reg, 'iplog_dns_failures_total', 'reverse DNS queries that failed otherwise (NXDOMAIN, SERVFAIL, bad names)', [], dns((d) => d.failures), snap);
    counter(reg, 'iplog_dns_cache_hits_total', 'names answered from the DNS cache', [], dns((d) => d.cacheHits), snap);
    counter(reg, 'iplog_dns_hosts_hits_total', 'names answered from /etc/hosts', [], dns((d) => d.hostsHits), snap);
    counter(reg, 'iplog_dns_coalesced_total', 'names that joined a lookup already under way', [], dns((d) => d.coalesced), snap);
    counter(reg, 'iplog_dns_dropped_total', 'lookups not made: the lookup queue was full (the address is shown)', [], dns((d) => d.dropped), snap);
  }

  // syslog (only when the lines go to syslog)
  if (first.syslog !== null) {
    const sl = (f: (d: NonNullable<SensorSnapshot['syslog']>) => number) => (s: SensorSnapshot): [Labels, number][] => (s.syslog === null ? [] : [[{ target: s.syslog.target }, f(s.syslog)]]);
    counter(reg, 'iplog_syslog_sent_total', 'syslog messages handed to the OS', ['target'], sl((d) => d.sent), snap);
    counter(reg, 'iplog_syslog_dropped_total', 'lines dropped because the syslog queue was full', ['target'], sl((d) => d.dropped), snap);
    counter(reg, 'iplog_syslog_rejected_total', 'messages the OS refused for good', ['target'], sl((d) => d.rejected), snap);
    gauge(reg, 'iplog_syslog_queue_length', 'lines waiting for the syslog daemon', ['target'], sl((d) => d.queued), snap);
    gauge(reg, 'iplog_syslog_queue_max', 'most lines ever queued at once', ['target'], sl((d) => d.maxQueued), snap);
    counter(reg, 'iplog_syslog_outages_total', 'times delivery to syslog stopped', ['target'], sl((d) => d.outages), snap);
  }

  // the process (prom-client's defaults: CPU, memory, event loop, handles, GC)
  collectDefaultMetrics({ register: reg });
  return reg;
}

export interface MetricsServer {
  /** where it listens (the port chosen when 0 was asked) */
  readonly address: MetricsAddress;
  close(): Promise<void>;
}

/** Listen on `addr` and serve `reg` at GET /metrics. Rejects if the address cannot be bound. */
export function serveMetrics(addr: MetricsAddress, reg: Registry): Promise<MetricsServer> {
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (path !== '/metrics') {
      res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' }).end('iplog: only /metrics is served here\n');
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD', 'content-type': 'text/plain; charset=utf-8' }).end('method not allowed\n');
      return;
    }
    reg.metrics().then(
      (text) => res.writeHead(200, { 'content-type': reg.contentType }).end(req.method === 'HEAD' ? undefined : text),
      (e: unknown) => res.writeHead(500, { 'content-type': 'text/plain; charset=utf-8' }).end(`iplog: metrics failed: ${(e as Error)?.message ?? String(e)}\n`),
    );
  });
  // a scraper that stalls must not hold sockets forever
  server.headersTimeout = 10_000;
  server.requestTimeout = 10_000;
  server.keepAliveTimeout = 5_000;
  server.maxConnections = 64;
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host: addr.host, port: addr.port, exclusive: true }, () => {
      server.off('error', reject);
      const a = server.address();
      const port = typeof a === 'object' && a !== null ? a.port : addr.port;
      resolve({
        address: { host: addr.host, port },
        close: () =>
          new Promise<void>((r) => {
            server.close(() => r());
            server.closeAllConnections();
          }),
      });
    });
  });
}
