/**
 * Going to the background (spec §1.5, iplog_util.c:fork_to_back()) without fork(): Node
 * cannot fork a running process, so the parent starts the same command again, detached
 * (a new session: setsid), with IPLOG_DAEMON_CHILD in its environment, and waits until
 * the child says how its start-up went. The child then does what the forked child of
 * 2.2.3 did: chdir("/"), umask(022), standard input, output (kept with -L) and error on
 * /dev/null.
 *
 * The report travels over a pipe on the child's fd 3: `ok\n` once the daemon runs (pid
 * file written, capture open, privileges dropped), or `fail <status> <text>\n` with the
 * Fatal text it logged. The parent exits 0 on `ok` and with the child's status otherwise
 * (2.2.3's parent exited 0 at once, so a daemon that died at start-up looked started).
 * The child closes fd 3 as soon as it has reported, so nothing it starts inherits it.
 *
 * What the parent did before detaching (configuration, options, `iplog started.` on the
 * sink, as 2.2.3 logged it before forking) is not done twice: the child parses the same
 * command line in the same directory (so relative paths mean the same) but prints no
 * pre-sink messages and no `iplog started.`.
 */
import { spawn } from 'node:child_process';
import { closeSync, writeSync } from 'node:fs';

/** Environment marker of the detached child. */
export const CHILD_ENV = 'IPLOG_DAEMON_CHILD';
/** fd of the report pipe in the child */
const REPORT_FD = 3;

/** True in the detached child (the marker is removed, so its own children do not see it). */
export function takeChildMarker(env: NodeJS.ProcessEnv = process.env): boolean {
  const is = env[CHILD_ENV] === '1';
  delete env[CHILD_ENV];
  return is;
}

/** The child's half: report once, then close the pipe. */
export class StartReport {
  private open = true;
  constructor(private readonly fd = REPORT_FD) {}

  ok(): void {
    this.send('ok\n');
  }

  fail(status: number, text: string): void {
    this.send(`fail ${status} ${text.replace(/\n/g, '\\n')}\n`);
  }

  private send(line: string): void {
    if (!this.open) return;
    this.open = false;
    try {
      writeSync(this.fd, line);
    } catch {
      /* the parent is gone: nobody to tell */
    }
    try {
      closeSync(this.fd);
    } catch {
      /* already closed */
    }
  }
}

/** The daemon child's first steps (fork_to_back() after the fork). */
export function becomeDaemonChild(): void {
  process.chdir('/');
  process.umask(0o022);
}

export interface DetachOptions {
  /** argv of this run (without node and the script) */
  argv: readonly string[];
  /** keep standard output (-L) */
  keepStdout: boolean;
  /** the command to start; default: this node, its flags and the main script */
  command?: string;
  args?: readonly string[];
}

export interface DetachResult {
  /** the parent's exit status */
  status: number;
  /** the child's Fatal text, if it failed */
  message?: string;
  pid?: number;
}

/** Start the detached child and wait for its report (or its exit). */
export function detach(o: DetachOptions): Promise<DetachResult> {
  const command = o.command ?? process.execPath;
  const args = o.args ?? [...process.execArgv, process.argv[1]!, ...o.argv];
  const child = spawn(command, args, {
    detached: true,
    stdio: ['ignore', o.keepStdout ? 'inherit' : 'ignore', 'ignore', 'pipe'],
    env: { ...process.env, [CHILD_ENV]: '1' },
  });
  return new Promise((resolve) => {
    let text = '';
    let done = false;
    let exited: DetachResult | undefined;
    let pipeClosed = false;
    const finish = (r: DetachResult): void => {
      if (done) return;
      done = true;
      child.removeAllListeners('exit');
      child.stdio[3]?.removeAllListeners();
      child.stdio[3]?.destroy();
      child.unref();
      resolve(r);
    };
    // no report: decide once both the pipe has closed and the child has exited
    const noReport = (): void => {
      if (pipeClosed && exited !== undefined) finish(exited);
    };
    const pipe = child.stdio[3] as NodeJS.ReadableStream | null;
    pipe?.setEncoding('utf8');
    pipe?.on('data', (chunk: string) => {
      text += chunk;
      const nl = text.indexOf('\n');
      if (nl < 0) return;
      const line = text.slice(0, nl);
      if (line === 'ok') return finish({ status: 0, pid: child.pid });
      const m = /^fail (\d+) (.*)$/.exec(line);
      if (m) return finish({ status: Number(m[1]), message: m[2]!.replace(/\\n/g, '\n'), pid: child.pid });
      finish({ status: 255, message: `unexpected start-up report: ${line}`, pid: child.pid });
    });
    pipe?.on('error', () => undefined);
    pipe?.on('close', () => {
      pipeClosed = true;
      noReport();
    });
    if (pipe === null) pipeClosed = true;
    child.on('error', (e) => finish({ status: 255, message: `Cannot start the daemon: ${e.message}` }));
    child.on('exit', (code, signal) => {
      exited = {
        status: code ?? 255,
        message: signal ? `the daemon was killed by ${signal} during start-up` : 'the daemon exited during start-up without a report',
        pid: child.pid,
      };
      noReport();
    });
  });
}
