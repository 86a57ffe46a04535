/** The address of `--metrics HOST:PORT` (no dependency on the metrics library: the option table imports it). */
export interface MetricsAddress {
  host: string;
  port: number;
}

/**
 * `HOST:PORT`: a dotted quad, `[IPv6]`, `localhost` or a host name, and a port 0-65535
 * (0: any free port, for tests; the operational log says which). undefined if malformed.
 */
export function parseMetricsAddress(text: string): MetricsAddress | undefined {
  const m = /^(?:\[([0-9A-Fa-f:.]+)\]|([A-Za-z0-9.-]+)):(\d{1,5})$/.exec(text);
  if (!m) return undefined;
  const port = Number(m[3]);
  if (port > 65535) return undefined;
  const host = m[1] ?? m[2]!;
  if (m[2] !== undefined && /^[0-9.]+$/.test(host) && !/^(\d{1,3})(\.\d{1,3}){3}$/.test(host)) return undefined;
  if (m[2] !== undefined && /^[0-9.]+$/.test(host) && host.split('.').some((o) => Number(o) > 255)) return undefined;
  return { host, port };
}
