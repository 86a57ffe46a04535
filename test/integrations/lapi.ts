/**
 * A private CrowdSec Local API for the fleet tests: the crowdsec binary of Debian's
 * package that scripts/setup.mjs unpacks into node_modules/.cache/iplog-crowdsec (as in
 * crowdsec.test.ts), started with `-no-cs` (the API only) on its own configuration,
 * SQLite database and port, offline (no Central API), optionally inside a network
 * namespace the test created. Machines and bouncers are registered with the unpacked
 * `cscli` against the same configuration. stop() and start() again keep the database,
 * which is how a LAPI outage is played.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const ROOT = join(__dirname, '..', '..', '..');

/** Where crowdsec and cscli are, or null. */
export function findCrowdsecBin(): string | null {
  for (const base of [process.env.IPLOG_CROWDSEC_ROOT, join(ROOT, 'node_modules', '.cache', 'iplog-crowdsec'), '/']) {
    if (base === undefined) continue;
    const bin = join(base, 'usr', 'bin');
    if (existsSync(join(bin, 'crowdsec')) && existsSync(join(bin, 'cscli'))) return bin;
  }
  return null;
}

const running = new Set<ChildProcess>();
process.on('exit', () => {
  for (const p of running) if (p.exitCode === null) p.kill('SIGKILL');
});

export class Lapi {
  readonly dir: string;
  readonly config: string;
  readonly url: string;
  private proc: ChildProcess | null = null;
  private out = '';

  /** `netns`: run the API (and cscli's API calls) inside it; `host`: the address it listens on. */
  constructor(
    readonly bin: string,
    readonly host: string,
    readonly port: number,
    readonly netns?: string,
  ) {
    this.dir = mkdtempSync(join(tmpdir(), 'iplog-lapi-'));
    this.config = join(this.dir, 'config.yaml');
    this.url = `http://${host}:${port}`;
    const d = this.dir;
    for (const sub of ['data', 'hub', 'parsers', 'scenarios', 'patterns']) mkdirSync(join(d, sub), { recursive: true });
    writeFileSync(join(d, 'hub', '.index.json'), JSON.stringify({ parsers: {}, scenarios: {}, postoverflows: {}, collections: {} }));
    writeFileSync(join(d, 'simulation.yaml'), 'simulation: off\n');
    writeFileSync(join(d, 'acquis.yaml'), '');
    // decisions that come with an alert are stored as given; this profile only serves alerts without one
    writeFileSync(join(d, 'profiles.yaml'), ['name: default_ip_remediation', 'filters:', ' - Alert.Remediation == true && Alert.GetScope() == "Ip"', 'decisions:', ' - type: ban', '   duration: 4h', 'on_success: break', ''].join('\n'));
    writeFileSync(
      this.config,
      [
        'common:',
        '  daemonize: false',
        '  log_media: stdout',
        '  log_level: info',
        'config_paths:',
        `  config_dir: ${d}/`,
        `  data_dir: ${d}/data/`,
        `  simulation_path: ${d}/simulation.yaml`,
        `  hub_dir: ${d}/hub/`,
        `  index_path: ${d}/hub/.index.json`,
        `  notification_dir: ${d}/notifications/`,
        `  plugin_dir: ${d}/plugins/`,
        'crowdsec_service:',
        `  acquisition_path: ${d}/acquis.yaml`,
        'cscli:',
        '  output: json',
        '  color: no',
        'db_config:',
        '  type: sqlite',
        `  db_path: ${d}/data/crowdsec.db`,
        '  use_wal: false',
        'prometheus:',
        '  enabled: false',
        'api:',
        '  client:',
        '    insecure_skip_verify: false',
        `    credentials_path: ${d}/local_api_credentials.yaml`,
        '  server:',
        '    log_level: info',
        `    listen_uri: ${host}:${port}`,
        `    profiles_path: ${d}/profiles.yaml`,
        '',
      ].join('\n'),
    );
  }

  private argv(args: string[]): string[] {
    return this.netns ? ['ip', 'netns', 'exec', this.netns, ...args] : args;
  }

  /** cscli with this configuration (inside the namespace: some commands call the API). */
  cscli(args: string[]): { status: number | null; stdout: string; stderr: string } {
    const argv = this.argv([join(this.bin, 'cscli'), '-c', this.config, ...args]);
    const r = spawnSync(argv[0]!, argv.slice(1), { encoding: 'utf8', env: { ...process.env, TZ: 'UTC' }, timeout: 60_000 });
    return { status: r.status, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
  }

  mustCscli(args: string[]): string {
    const r = this.cscli(args);
    if (r.status !== 0) throw new Error(`cscli ${args.join(' ')}: exit ${r.status}: ${r.stderr.trim()}`);
    return r.stdout;
  }

  /** Register cscli's own machine (its credentials file points at this API). */
  setUpCscli(): void {
    this.mustCscli(['machines', 'add', 'cscli-local', '--password', 'cscli-local-password', '-f', join(this.dir, 'local_api_credentials.yaml'), '--url', this.url, '--force']);
  }

  /** A machine (watcher) with `password`, validated. */
  addMachine(name: string, password: string): void {
    this.mustCscli(['machines', 'add', name, '--password', password, '-f', '/dev/null', '--force']);
  }

  /** A bouncer; returns its API key. */
  addBouncer(name: string): string {
    const out = this.mustCscli(['bouncers', 'add', name, '-o', 'raw']).trim();
    const key = out.split('\n').pop()!.trim();
    if (!/^[A-Za-z0-9]{16,}$/.test(key)) throw new Error(`cscli bouncers add: unexpected output ${out}`);
    return key;
  }

  async start(): Promise<void> {
    const argv = this.argv([join(this.bin, 'crowdsec'), '-c', this.config, '-no-cs']);
    const p = spawn(argv[0]!, argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, TZ: 'UTC' } });
    p.stdout!.on('data', (b: Buffer) => (this.out += b.toString()));
    p.stderr!.on('data', (b: Buffer) => (this.out += b.toString()));
    running.add(p);
    this.proc = p;
    for (let i = 0; i < 150; i++) {
      if (p.exitCode !== null) throw new Error(`the LAPI exited: ${this.out.slice(-2000)}`);
      if (this.cscli(['lapi', 'status']).status === 0) return;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`the LAPI did not come up: ${this.out.slice(-2000)}`);
  }

  async stop(): Promise<void> {
    const p = this.proc;
    if (p === null || p.exitCode !== null) return;
    const gone = new Promise<void>((r) => p.once('exit', () => r()));
    // `ip netns exec` passes the signal on: the API exits and its port closes
    p.kill('SIGTERM');
    const t = setTimeout(() => p.kill('SIGKILL'), 5000);
    await gone;
    clearTimeout(t);
    running.delete(p);
    this.proc = null;
  }

  log(): string {
    return this.out;
  }

  async destroy(): Promise<void> {
    await this.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }
}
