/** The operational log's records (pino JSON lines) in a process's standard error text. */
export function opLogRecords(stderr: string): Record<string, unknown>[] {
  const out: Record<string, unknown>[] = [];
  for (const l of stderr.split('\n')) {
    if (!l.startsWith('{')) continue;
    try {
      out.push(JSON.parse(l) as Record<string, unknown>);
    } catch {
      /* a line still being written */
    }
  }
  return out;
}
