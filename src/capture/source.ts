/**
 * The capture-source contract shared by the file readers (replay) and, later, the live
 * capture addon: a source hands frames, one at a time, to a callback, by reference into
 * a buffer that it reuses. The callback must copy anything it keeps beyond its return.
 *
 * Timestamps are split into whole seconds and nanoseconds so that nanosecond pcap and
 * pcapng `if_tsresol` values survive without floating-point loss.
 */

/** DLT / LINKTYPE numbers we decode (tcpdump.org link-layer header types). */
export const LINKTYPE = {
  NULL: 0, // BSD loopback: 4-byte host-order address family
  ETHERNET: 1,
  RAW: 101, // raw IPv4/IPv6, no link header
  LOOP: 108, // OpenBSD loopback: 4-byte network-order address family
  LINUX_SLL: 113,
  IPV4: 228, // raw IPv4
  IPV6: 229, // raw IPv6
  LINUX_SLL2: 276,
  DLT_RAW_12: 12, // DLT_RAW on most BSDs (and libpcap's LINKTYPE_RAW alias)
  DLT_RAW_14: 14, // DLT_RAW on OpenBSD
} as const;

/**
 * Called once per frame. `buf[off .. off+caplen)` holds the captured bytes; `wirelen` is
 * the original length on the wire. `linktype` is the LINKTYPE of the frame's interface.
 */
export type FrameHandler = (
  buf: Buffer,
  off: number,
  caplen: number,
  wirelen: number,
  tsSec: number,
  tsNsec: number,
  linktype: number,
) => void;

/** A bad capture file. `message` is one line naming the file (and the offset where it helps). */
export class CaptureError extends Error {
  constructor(
    message: string,
    readonly code: string,
  ) {
    super(message);
    this.name = 'CaptureError';
  }
}

export interface ReadOptions {
  /** Bytes read per chunk (default 1 MiB). Memory stays bounded by this, not the file size. */
  chunkSize?: number;
  /**
   * Called between chunks; may return a promise to apply backpressure (the pipeline
   * waits there for pending reverse-DNS lookups so its output queue stays bounded).
   * `consumed` is the number of bytes of the input read so far (progress display).
   */
  between?: (consumed: number) => void | Promise<void>;
}

export interface ReadSummary {
  frames: number;
  bytes: number;
  format: 'pcap' | 'pcapng';
}
