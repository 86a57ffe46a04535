/**
 * Fuzz harness: runs cases [0, count) of seed lists through worker.js child processes
 * (each replays its cases one after the other in one process) and collects verdicts.
 *
 * A case fails when:
 *  - it does not finish within `timeoutMs` (a hang: the worker is killed and a new one
 *    goes on with the next case);
 *  - iplog returns a status other than 0 (clean) or 1 (a clear error about the input);
 *  - anything it writes on standard error looks like a stack trace, an internal error,
 *    or holds NaN / undefined / Invalid Date;
 *  - an output line holds NaN / undefined, or a JSON line does not parse or is outside
 *    config/iplog-event.schema.json (the worker checks those).
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BAD_TEXT } from './mutate';

export interface FuzzFailure {
  seed: number;
  index: number;
  what: string;
  problem: string;
}

export interface FuzzReport {
  cases: number;
  /** exit status → count */
  statuses: Record<string, number>;
  /** first words of the error lines of status-1 cases → count */
  errors: Record<string, number>;
  textLines: number;
  jsonLines: number;
  failures: FuzzFailure[];
  ms: number;
}

const STACK = /\n\s+at .+\(.*:\d+:\d+\)|\n\s+at .+:\d+:\d+|internal error|IPLOG_ERR_INTERNAL/;

/** The kind of an error line: the message without the file name and numbers. */
function errorKind(stderr: string): string {
  const line = stderr.split('\n').find((l) => l.startsWith('iplog:')) ?? stderr.split('\n')[0] ?? '';
  return line
    .replace(/^iplog: [^:]*: /, '')
    .replace(/0x[0-9a-f]+/g, 'X')
    .replace(/\d+/g, 'N')
    .slice(0, 80);
}

/** Time a worker may take to start (load the seeds) before its first case, on a busy machine. */
const STARTUP_MS = 180_000;

/**
 * Runs cases [from, to) of `seed`, restarting the worker after a hang. A worker that dies
 * or stalls before its first case is started again (three times at most), never taken
 * for a case that hangs.
 */
async function runRange(root: string, worker: string, seed: number, from: number, to: number, timeoutMs: number, rep: FuzzReport): Promise<void> {
  let next = from;
  let startFailures = 0;
  while (next < to) {
    const tmp = mkdtempSync(join(tmpdir(), 'iplog-fuzz-'));
    try {
      const r = await new Promise<{ next: number; started: boolean; why: string }>((resolve) => {
        const child = spawn(process.execPath, [worker, root, String(seed), String(next), String(to), tmp], {
          stdio: ['ignore', 'ignore', 'pipe'],
          env: { ...process.env, TZ: 'UTC', LC_ALL: 'C', IPLOG_LOG_LEVEL: 'warn' },
        });
        let cur = -1;
        let started = false;
        let what = '';
        let buf = '';
        let caseErr = '';
        let hung = false;
        let timer: NodeJS.Timeout | null = null;
        const arm = (ms: number): void => {
          if (timer) clearTimeout(timer);
          timer = setTimeout(() => {
            if (cur >= 0) {
              rep.failures.push({ seed, index: cur, what, problem: `no result within ${ms} ms (hang)` });
              rep.cases++;
              hung = true;
            }
            child.kill('SIGKILL');
          }, ms);
        };
        arm(STARTUP_MS);
        child.stderr.setEncoding('utf8');
        child.stderr.on('data', (d: string) => {
          buf += d;
          let nl: number;
          while ((nl = buf.indexOf('\n')) >= 0) {
            const line = buf.slice(0, nl);
            buf = buf.slice(nl + 1);
            if (line.startsWith('\x01BEGIN ')) {
              const sp = line.indexOf(' ', 7);
              cur = Number(line.slice(7, sp));
              what = line.slice(sp + 1);
              caseErr = '';
              started = true;
              arm(timeoutMs);
            } else if (line.startsWith('\x01BAD ')) {
              rep.failures.push({ seed, index: cur, what, problem: line.slice(line.indexOf(' ', 5) + 1) });
            } else if (line.startsWith('\x01END ')) {
              const [, , st, tl, jl] = line.split(' ');
              rep.cases++;
              rep.statuses[st!] = (rep.statuses[st!] ?? 0) + 1;
              rep.textLines += Number(tl);
              rep.jsonLines += Number(jl);
              if (st !== '0' && st !== '1') rep.failures.push({ seed, index: cur, what, problem: `exit status ${st}: ${caseErr.slice(0, 300)}` });
              if (st === '1') {
                const k = errorKind(caseErr);
                rep.errors[k] = (rep.errors[k] ?? 0) + 1;
              }
              if (STACK.test('\n' + caseErr) || BAD_TEXT.test(caseErr)) rep.failures.push({ seed, index: cur, what, problem: `standard error: ${caseErr.slice(0, 400)}` });
              cur = -1;
              next = Number(line.split(' ')[1]) + 1;
            } else if (line.startsWith('\x01FATAL ')) {
              rep.failures.push({ seed, index: cur, what, problem: `worker failed: ${line.slice(7, 600)}` });
            } else {
              caseErr += line + '\n';
            }
          }
        });
        child.on('close', (code) => {
          if (timer) clearTimeout(timer);
          if (cur >= 0) {
            // a hang or a crash inside a case: go on after it
            if (!hung) {
              rep.failures.push({ seed, index: cur, what, problem: `worker ended (status ${code}) inside the case: ${caseErr.slice(0, 300)}` });
              rep.cases++;
            }
            resolve({ next: cur + 1, started, why: '' });
          } else resolve({ next, started, why: code === 0 ? '' : `status ${code}: ${caseErr.slice(0, 300)}` });
        });
      });
      if (!r.started && r.next < to) {
        if (++startFailures > 3) {
          rep.failures.push({ seed, index: r.next, what: '', problem: `the worker did not start four times (${r.why}); cases ${r.next}..${to - 1} not run` });
          return;
        }
      }
      next = r.next;
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  }
}

/**
 * Runs `count` cases of each seed in `seeds`, `parallel` workers at a time (each worker a
 * contiguous range of one seed).
 */
export async function fuzz(root: string, seeds: readonly number[], count: number, opts: { timeoutMs?: number; parallel?: number; perWorker?: number } = {}): Promise<FuzzReport> {
  const worker = join(root, 'dist', 'test', 'fuzz', 'worker.js');
  const rep: FuzzReport = { cases: 0, statuses: {}, errors: {}, textLines: 0, jsonLines: 0, failures: [], ms: 0 };
  const t0 = Date.now();
  const per = opts.perWorker ?? 1000;
  const jobs: [number, number, number][] = [];
  for (const s of seeds) for (let a = 0; a < count; a += per) jobs.push([s, a, Math.min(count, a + per)]);
  const parallel = opts.parallel ?? 2;
  let j = 0;
  await Promise.all(
    Array.from({ length: parallel }, async () => {
      while (j < jobs.length) {
        const [s, a, b] = jobs[j++]!;
        await runRange(root, worker, s, a, b, opts.timeoutMs ?? 10_000, rep);
      }
    }),
  );
  rep.ms = Date.now() - t0;
  return rep;
}
