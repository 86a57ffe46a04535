/**
 * SIGUSR1 belongs to iplog: it asks for statistics, in every mode (replay and live).
 *
 * Node's own handler for SIGUSR1 starts its inspector, a debugger listening on
 * 127.0.0.1:9229 through which anyone who can connect runs code in the process (often
 * root). Node 20 has no option to turn that off (`--disable-sigusr1` came with Node 22.14),
 * so iplog takes the signal over, as early as it can and for good:
 *
 *  1. bin/iplog's first statement installs a listener (the same one claimSigusr1()
 *     installs; it records the signal in a process-global hook). Once any JS listener
 *     exists, libuv's handler replaces Node's and the inspector is never started by the
 *     signal. The listener is never removed (removing it would restore SIG_DFL, which
 *     kills the process).
 *  2. Before that statement runs, Node's bootstrap (tens of milliseconds) is a window
 *     in which a SIGUSR1 still starts the inspector. closeStrayInspector() is called
 *     at start-up and again once the event loop has turned: an inspector found open is
 *     closed at once and reported on standard error.
 *
 * What the statistics are depends on the mode: the mode registers a handler with
 * onStatisticsSignal(); signals that arrive before one is registered are answered when
 * it is (a count, not a queue).
 */

interface Usr1Hook {
  handler: (() => void) | null;
  /** signals received while no handler was registered */
  pending: number;
  /** total received (tests, diagnostics) */
  received: number;
  /** a listener that feeds this hook is installed (by bin/iplog or claimSigusr1()) */
  installed: boolean;
}

const KEY = Symbol.for('iplog.sigusr1');

function hook(): Usr1Hook {
  const g = globalThis as unknown as Record<symbol, Usr1Hook | undefined>;
  let h = g[KEY];
  if (h === undefined) {
    const created: Usr1Hook = { handler: null, pending: 0, received: 0, installed: false };
    g[KEY] = created;
    h = created;
  }
  return h;
}

/**
 * Install iplog's SIGUSR1 listener (idempotent; bin/iplog has normally done it already,
 * with the same global hook).
 */
export function claimSigusr1(): void {
  const h = hook();
  if (h.installed) return;
  process.on('SIGUSR1', () => {
    h.received++;
    if (h.handler !== null) h.handler();
    else h.pending++;
  });
  h.installed = true;
}

/**
 * Route SIGUSR1 to `fn` (replacing the previous handler); returns the function that
 * unregisters it (the signal is then only counted, never left to Node).
 */
export function onStatisticsSignal(fn: () => void): () => void {
  claimSigusr1();
  const h = hook();
  h.handler = fn;
  if (h.pending > 0) {
    h.pending = 0;
    setImmediate(fn);
  }
  return () => {
    if (h.handler === fn) h.handler = null;
  };
}

/** How many SIGUSR1 this process received. */
export function sigusr1Received(): number {
  return hook().received;
}

/**
 * The open inspector's address, or undefined. Loading node:inspector to ask loads
 * worker_threads and the streams with it, milliseconds of every start-up (issue 10 item 3);
 * the binding it reads the answer from is reachable alone through process.binding, which
 * is deprecated in the documentation only, unless Node runs with --pending-deprecation:
 * then process.binding is a wrapper that warns (named `deprecated`, not `binding`), and
 * node:inspector is asked instead. bin/iplog does the same before the program is loaded.
 * Throws in a Node built without the inspector.
 */
export function inspectorUrl(): string | undefined {
  const p = process as unknown as { binding?: ((name: string) => { url?: () => string | undefined }) & { name: string } };
  if (typeof p.binding === 'function' && p.binding.name === 'binding') {
    let url: (() => string | undefined) | undefined;
    try {
      url = p.binding('inspector').url;
    } catch {
      url = undefined;
    }
    if (typeof url === 'function') return url();
  }
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return (require('node:inspector') as typeof import('node:inspector')).url();
}

/**
 * Close Node's inspector if a SIGUSR1 during the bootstrap (before the listener was
 * installed) opened it; `report` is told. Returns whether one was open. Safe to call
 * in a Node built without the inspector.
 */
export function closeStrayInspector(report: (text: string) => void): boolean {
  let url: string | undefined;
  try {
    url = inspectorUrl();
  } catch {
    return false; // a Node without the inspector
  }
  if (url === undefined) return false;
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  (require('node:inspector') as typeof import('node:inspector')).close();
  report(`iplog: a SIGUSR1 during start-up opened Node's inspector (${url}); closed it\n`);
  return true;
}

/**
 * Claim the signal and close a stray inspector now, after the current turn of the event
 * loop, and shortly after (Node starts a requested inspector from an interrupt and from
 * an asynchronous callback, so one request can open it twice).
 */
export function guardAgainstInspector(report: (text: string) => void): void {
  claimSigusr1();
  closeStrayInspector(report);
  setImmediate(() => closeStrayInspector(report));
  setTimeout(() => closeStrayInspector(report), 200).unref();
}
