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
  BAD_NETWORK: 'IPLOG_ERR_BAD_NETWORK',
  INTERNAL: 'IPLOG_ERR_INTERNAL',
} as const;
