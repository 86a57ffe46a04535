/**
 * Typed arrays of the pair tables, kept from an engine a restart discarded for the next
 * one. A SIGHUP builds a new Engine (spec §2.7: scan state starts afresh) whose tables
 * hold ~0.5 MiB of typed arrays; those of the old engine were freed only when the garbage
 * collector got to them, which on a heap this small it seldom does: tens of MiB piled up
 * outside the V8 heap and the C heap grew with them (docs/operations.md, "SIGHUP").
 * Bounded: at most SPARE_BYTES are kept (one engine's tables take ~2.7 MiB).
 */
type Typed = Float64Array | Int32Array | Uint32Array | Int16Array | Uint16Array | Uint8Array;
type Ctor<T extends Typed> = { new (n: number): T; readonly name: string };

const SPARE_BYTES = 16 * 1024 * 1024;
const spare = new Map<string, Typed[]>();
let spareBytes = 0;

/** A zero-filled array of `n` elements: a kept one when there is one, else a new one. */
export function zeroed<T extends Typed>(C: Ctor<T>, n: number): T {
  const kept = spare.get(`${C.name}:${n}`)?.pop();
  if (kept !== undefined) {
    spareBytes -= kept.byteLength;
    return kept.fill(0) as T;
  }
  return new C(n);
}

/**
 * Give back every typed-array field of `table` (which must not be used again): each is
 * kept for zeroed() and replaced by an empty array of its type, so that a use after the
 * release reads and writes nothing of another table's.
 */
export function release(table: object): void {
  const t = table as Record<string, unknown>;
  for (const k of Object.keys(t)) {
    const v = t[k];
    if (!isTyped(v) || v.length === 0) continue;
    const key = `${v.constructor.name}:${v.length}`;
    let list = spare.get(key);
    if (list === undefined) spare.set(key, (list = []));
    if (spareBytes + v.byteLength <= SPARE_BYTES && !list.includes(v)) {
      list.push(v);
      spareBytes += v.byteLength;
    }
    t[k] = new (v.constructor as Ctor<Typed>)(0);
  }
}

function isTyped(v: unknown): v is Typed {
  return v instanceof Float64Array || v instanceof Int32Array || v instanceof Uint32Array || v instanceof Int16Array || v instanceof Uint16Array || v instanceof Uint8Array;
}
