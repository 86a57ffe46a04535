/**
 * Durations as iplog.conf and the command line write them (`90`, `30s`, `10m`, `2h`, `1d`, `1w`).
 * A module of its own so that the ban settings and the log rules share it without an import cycle.
 */
const UNIT: Record<string, number> = { '': 1, s: 1, m: 60, h: 3600, d: 86400, w: 7 * 86400 };
const YEAR = 365 * 86400;

/** `3600`, `90s`, `10m`, `1h`, `7d`, `2w` → seconds; undefined if not a duration in [min, max]. */
export function parseDuration(text: string, min = 1, max = YEAR): number | undefined {
  const m = /^(\d{1,9})([smhdw]?)$/i.exec(text.trim());
  if (!m) return undefined;
  const n = Number(m[1]) * UNIT[m[2]!.toLowerCase()]!;
  return n >= min && n <= max ? n : undefined;
}

