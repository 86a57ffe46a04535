/** The open capture of a live run as the daemon and the metrics see it (its own file: no import cycle). */
import type { InterfaceSnapshot } from '../metrics/snapshot';

/** Counters of one capture (summed over its interfaces), from pcap_stats(). */
export interface CaptureStats {
  /** packets the kernel filter passed */
  received: number;
  /** dropped by the kernel: no room in the capture buffer */
  dropped: number;
  /** dropped by the interface or its driver */
  ifDropped: number;
}

/** The open interfaces of a live run. */
export interface CaptureHandle {
  stats(): CaptureStats;
  /** per interface (metrics, status); optional for test doubles */
  interfaces?(): InterfaceSnapshot[];
  close(): void;
  /** hold the idle ticker (clock, flushes) while a restart replaces engine and sink */
  pause?(): void;
  resume?(): void;
}

