/**
 * Pieces of iplog's line text shared by several lines (pure functions, no I/O).
 */

/**
 * make_ports_str(): ` [port N]` for one port, ` [ports a,b,...]` for several, ending in
 * `,...]` once the list is full (`max` ports: 10 destination, 5 source) even if exactly
 * full; empty without ports.
 */
export function portList(ports: readonly number[], max: number): string {
  const n = ports.length;
  if (n === 0) return '';
  if (n === 1) return ` [port ${ports[0]}]`;
  return ` [ports ${ports.join(',')}${n >= max ? ',...]' : ']'}`;
}
