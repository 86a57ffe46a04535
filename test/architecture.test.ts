/**
 * Structural rules of the code base (STYLE.md habits 1 and 3):
 *  - decoders, detectors and the pipeline never read the wall clock nor set timers: time
 *    is packet time;
 *  - docs/detectors.md is the registry's rendering;
 *  - no import cycle in src/ (type-only imports count: a cycle through `import type` is
 *    still two modules that cannot be understood apart);
 *  - the protocol handlers see the detection context, not the engine.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, dirname, resolve, relative } from 'node:path';
import { renderDetectorsDoc } from '../src/detect/doc';

const root = join(__dirname, '..', '..');
const WALL = /\b(Date\.now|new Date\(\)|performance\.now|process\.hrtime|setTimeout|setInterval|setImmediate)\b/;

test('no wall clock in decode/, detect/, rules/ and pipeline.ts', () => {
  const files = ['src/pipeline.ts'];
  for (const d of ['src/decode', 'src/detect', 'src/rules']) for (const f of readdirSync(join(root, d))) if (f.endsWith('.ts')) files.push(`${d}/${f}`);
  const offenders = files.filter((f) =>
    readFileSync(join(root, f), 'utf8')
      .split('\n')
      .some((l) => !/^\s*(\*|\/\/)/.test(l) && WALL.test(l)),
  );
  assert.deepEqual(offenders, []);
});

test('docs/detectors.md is the registry rendering (npm run docs)', () => {
  assert.equal(readFileSync(join(root, 'docs', 'detectors.md'), 'utf8'), renderDetectorsDoc());
});

/** Every .ts file under src/, absolute paths. */
function sourceFiles(): string[] {
  const out: string[] = [];
  (function walk(d: string) {
    for (const n of readdirSync(d).sort()) {
      const p = join(d, n);
      if (statSync(p).isDirectory()) walk(p);
      else if (n.endsWith('.ts')) out.push(p);
    }
  })(join(root, 'src'));
  return out;
}

/** Relative imports of a module (static, type-only, re-exports, dynamic import()), resolved to files. */
function importsOf(file: string, text: string): string[] {
  const re = /(?:^|\n)\s*(?:import|export)\s+(?:type\s+)?(?:[^'";]*?\sfrom\s+)?['"](\.[^'"]+)['"]|import\(\s*['"](\.[^'"]+)['"]\s*\)/g;
  const deps: string[] = [];
  for (let m = re.exec(text); m !== null; m = re.exec(text)) {
    const t = resolve(dirname(file), (m[1] ?? m[2])!);
    const hit = [`${t}.ts`, join(t, 'index.ts')].find((c) => existsSync(c));
    if (hit !== undefined) deps.push(hit);
  }
  return deps;
}

/** Strongly connected components with more than one module (or a module importing itself). */
function cycles(graph: Map<string, string[]>): string[][] {
  let next = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[][] = [];
  const visit = (v: string): void => {
    index.set(v, next);
    low.set(v, next);
    next++;
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) === index.get(v)) {
      const c: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        c.push(relative(root, w));
      } while (w !== v);
      if (c.length > 1 || (graph.get(v) ?? []).includes(v)) found.push(c.sort());
    }
  };
  for (const v of graph.keys()) if (!index.has(v)) visit(v);
  return found;
}

test('no import cycle in src/', () => {
  const graph = new Map<string, string[]>();
  for (const f of sourceFiles()) graph.set(f, importsOf(f, readFileSync(f, 'utf8')));
  assert.ok(graph.size > 50, 'the walk found the sources');
  assert.deepEqual(cycles(graph), []);
});

test('the cycle finder sees a cycle through a type-only import', () => {
  const a = join(root, 'src', 'a.ts');
  const b = join(root, 'src', 'b.ts');
  const c = join(root, 'src', 'c.ts');
  assert.deepEqual(cycles(new Map([[a, [b]], [b, [c]], [c, [a]]])), [['src/a.ts', 'src/b.ts', 'src/c.ts']]);
  const tcp = join(root, 'src', 'detect', 'tcp.ts');
  assert.ok(importsOf(tcp, "import type { Engine } from '../pipeline';\nimport {\n  x,\n} from './index';").includes(join(root, 'src', 'pipeline.ts')));
});

test('the protocol handlers and detectors never import the engine', () => {
  const detect = sourceFiles().filter((f) => f.includes(`${join('src', 'detect')}/`));
  const offenders = detect.filter((f) => importsOf(f, readFileSync(f, 'utf8')).some((d) => d === join(root, 'src', 'pipeline.ts')));
  assert.deepEqual(offenders.map((f) => relative(root, f)), []);
});
