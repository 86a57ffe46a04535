/**
 * What the cost models of the modern TCP path share (contact-models.ts, core-hook.ts,
 * core-model.ts): their hashes (the C model, native-core/core.c, has the same two) and the
 * median of a run's samples.
 */

/** a 32-bit mix of one word */
export function mix(a: number): number {
  let h = Math.imul(a ^ 0x5bd1e995, 0x85ebca77);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae3d);
  return h ^ (h >>> 16);
}

/** a 32-bit mix of three words */
export function mix3(a: number, b: number, c: number): number {
  let h = Math.imul(a ^ 0x9e3779b1, 0x85ebca77);
  h = Math.imul(h ^ b ^ (h >>> 15), 0xc2b2ae3d);
  h = Math.imul(h ^ c ^ (h >>> 13), 0x27d4eb2f);
  return h ^ (h >>> 16);
}

/** the lower median */
export function median(xs: number[]): number {
  const a = [...xs].sort((x, y) => x - y);
  return a[Math.floor((a.length - 1) / 2)]!;
}
