/**
 * The `--crowdsec-*` settings (src/ban/crowdsec.ts), in a file of their own so that the
 * backend contract (backend.ts) can name them without importing the backend that
 * implements it (an import cycle, test/architecture.test.ts).
 */
export interface CrowdsecSettings {
  /** LAPI base URL */
  url: string;
  /** machine (watcher) name, for the crowdsec backend */
  machineId?: string;
  /** file holding the machine's password (first line) */
  passwordFile?: string;
  /** file holding a bouncer API key (first line): turns the decision stream on */
  bouncerKeyFile?: string;
  /** seconds between decision-stream polls */
  pollSec: number;
  /** origins of the decisions the stream applies (comma list), or 'all' */
  origins: string;
}
