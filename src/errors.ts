/**
 * Stable error codes at process boundaries (never reused). A coded error is printed as
 * one line `iplog: <message>` and gives a non-zero exit status; anything else reaching
 * main() is a bug and is reported as such, still without a stack trace unless
 * IPLOG_DEBUG is set.
 */
export class IplogError extends Error {
  constructor(
    message: string,
    readonly code: string,
    readonly status = 1,
  ) {
    super(message);
    this.name = 'IplogError';
  }
}

export const ERR = {
  LIVE_UNAVAILABLE: 'IPLOG_ERR_LIVE_UNAVAILABLE',
  OUTPUT_OPEN: 'IPLOG_ERR_OUTPUT_OPEN',
  /** a log or JSON file could not be written (disk full, I/O error): survived live, fatal in a replay */
  OUTPUT_WRITE: 'IPLOG_ERR_OUTPUT_WRITE',
  /** standard output lost its reader (EPIPE) */
  OUTPUT_CLOSED: 'IPLOG_ERR_OUTPUT_CLOSED',
  /** `--json -` together with -L: both would write standard output */
  JSON_STDOUT: 'IPLOG_ERR_JSON_STDOUT',
  BAD_NETWORK: 'IPLOG_ERR_BAD_NETWORK',
  /** replay inputs that cannot go together (`-r -` with other inputs) */
  REPLAY_INPUTS: 'IPLOG_ERR_REPLAY_INPUTS',
  /** `--json -` where standard output reaches nobody (a daemon's is /dev/null) */
  JSON_NO_STDOUT: 'IPLOG_ERR_JSON_NO_STDOUT',
  INTERNAL: 'IPLOG_ERR_INTERNAL',
  // ---- bans (src/ban/, docs/ban-backends.md "Errors"); fatal at start-up:
  /** ban settings that do not fit together, or a bad backend parameter */
  BAN_CONFIG: 'IPLOG_ERR_BAN_CONFIG',
  /** a real firewall backend for a replay of a capture file */
  BAN_REPLAY: 'IPLOG_ERR_BAN_REPLAY',
  // logged, counted and survived at run time:
  /** a firewall command failed (after its retries) */
  BAN_EXEC: 'IPLOG_ERR_BAN_EXEC',
  /** a firewall command did not finish in time (killed) */
  BAN_TIMEOUT: 'IPLOG_ERR_BAN_TIMEOUT',
  /** the firewall program is not installed */
  BAN_NOT_FOUND: 'IPLOG_ERR_BAN_NOT_FOUND',
  /** too many firewall commands waiting: this one was dropped */
  BAN_QUEUE_FULL: 'IPLOG_ERR_BAN_QUEUE_FULL',
  /** the ban state file could not be read or parsed (iplog starts with an empty table) */
  BAN_STATE_READ: 'IPLOG_ERR_BAN_STATE_READ',
  /** the ban state file could not be written */
  BAN_STATE_WRITE: 'IPLOG_ERR_BAN_STATE_WRITE',
  /** the firewall could not be listed or brought in line with the ban table */
  BAN_RECONCILE: 'IPLOG_ERR_BAN_RECONCILE',
  /** the firewall's check failed after a failed command: the structure is being re-created */
  BAN_REPAIR: 'IPLOG_ERR_BAN_REPAIR',
  /** the host's addresses, gateways or resolvers could not all be read */
  BAN_SYSTEM: 'IPLOG_ERR_BAN_SYSTEM',
  /** CrowdSec's Local API: unreachable (pushes queued), a push refused or dropped, the decision stream failing */
  BAN_LAPI: 'IPLOG_ERR_BAN_LAPI',
  /** the ban control socket (iplog bans) could not be opened, or failed */
  BAN_CONTROL: 'IPLOG_ERR_BAN_CONTROL',
} as const;
