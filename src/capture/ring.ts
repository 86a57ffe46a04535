/**
 * The frame ring of the two-stage replay (`--threads 2`, src/capture/threaded.ts): a
 * SharedArrayBuffer that the reader thread fills with frame records and the main thread
 * empties, in file order. One producer, one consumer, no allocation per frame.
 *
 * Record: six 32-bit words (total length, seconds, nanoseconds, captured length, wire
 * length, link type) then the frame's bytes, padded to 4. A record never wraps: when the
 * rest of the ring is too short, the producer writes a WRAP word there and starts again
 * at 0 (those bytes count as used until the consumer passes them).
 *
 * Control words (Int32Array over a second small SharedArrayBuffer): USED, the bytes
 * published and not yet consumed (the producer adds a batch at a time, the consumer
 * subtracts what it has handled; each waits on this word when it has nothing to do),
 * STATE (RUNNING, DONE, FAILED) and the reader's file position (progress), as a
 * float64 in words 4-5.
 */
export const REC_HEADER = 24;
export const WRAP = -1;

export const C_USED = 0;
export const C_STATE = 1;
export const C_POS = 4; // float64 index 2 (bytes 16..23) of the same buffer
export const CONTROL_BYTES = 32;

export const ST_RUNNING = 0;
export const ST_DONE = 1;
export const ST_FAILED = 2;

/** Ring size: 4 MiB (about 50,000 minimum-size frames: 0.25 s of a 200 kpps replay). */
export const RING_BYTES = 4 * 1024 * 1024;
/** The producer publishes at least every this many bytes (and at every chunk boundary). */
export const PUBLISH_BYTES = 64 * 1024;

/** Bytes a record of `caplen` bytes takes. */
export function recordBytes(caplen: number): number {
  return (REC_HEADER + caplen + 3) & ~3;
}

/** What the reader thread posts when it ends. */
export type ReaderResult =
  | { ok: true; frames: number; bytes: number; format: 'pcap' | 'pcapng'; maxBufferBytes: number; anomalies: Float64Array }
  | { ok: false; capture: boolean; message: string; code: string; anomalies: Float64Array };
