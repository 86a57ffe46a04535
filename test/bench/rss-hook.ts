/**
 * `node --require dist/test/bench/rss-hook.js bin/iplog ...` (test/bench/spoof-rss.ts): at
 * exit, one line on standard error with the process's peak resident set (KiB, the kernel's
 * high-water mark) and its CPU time (µs, user + system).
 */
import { writeSync } from 'node:fs';

process.on('exit', () => {
  const u = process.resourceUsage();
  try {
    writeSync(2, `\niplog-bench-rss ${u.maxRSS} ${u.userCPUTime + u.systemCPUTime}\n`);
  } catch {
    // standard error closed: nothing to report to
  }
});
