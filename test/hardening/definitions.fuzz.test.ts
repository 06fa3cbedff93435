/**
 * Property-based fuzzing of the definition files (fast-check), through the compiler's library
 * entry (compileTree, in-process): random JSON values as api.json / plan / subscription files,
 * random trees of files, structural mutations of the example APIs in apis/ (keys deleted, replaced
 * and inserted, wrong types, huge strings, deep nesting, odd unicode) and byte-level corruption of
 * their text. Every case: no throw, either a bundle (whose id checks) or diagnostics that each
 * carry a stable code, a file of the tree and a real position; bounded time and heap.
 *
 * Each property stops after its time budget (interruptAfterTimeLimit), so the file stays around
 * 20-30 s however slow the machine. A failure prints fast-check's seed and counterexample.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { fileURLToPath } from 'node:url';
import { bundleId, CODES, compileTree, formatDiagnostics, readFolder, type SourceFile } from '../../compiler/index.ts';
import { decodeText } from '../../compiler/source.ts';
import { POLICY_CODES } from '../../core/policies/check.ts';

const examplesDir = fileURLToPath(new URL('../../apis/', import.meta.url));
const SOURCE = { kind: 'folder' as const, path: 'fuzz', compilerVersion: 'fuzz' };
/** Per property: stop generating after this long (the runs done so far count). */
const BUDGET_MS = 5000;
/** One compile of a tree of a few files (at most ~1 MiB each). Generous for a loaded machine. */
const MAX_CASE_MS = 3000;
const MAX_HEAP_GROWTH = 512 * 1024 * 1024;

let examples: SourceFile[];
let heapAtStart: number;
beforeAll(async () => {
  examples = (await readFolder(examplesDir)).filter((file) => file.path.endsWith('.json'));
  heapAtStart = process.memoryUsage().heapUsed;
});

const known = (code: string) => Object.hasOwn(CODES, code) || Object.hasOwn(POLICY_CODES, code);

/** Compile `files` and check everything a user of the result relies on. Throws (fails the property) otherwise. */
function compileAndCheck(files: SourceFile[]): void {
  const started = performance.now();
  const result = compileTree(files, { source: SOURCE, now: new Date(0) });
  const ms = performance.now() - started;
  expect(ms, 'one compile stays fast').toBeLessThan(MAX_CASE_MS);
  const paths = new Set(files.map((file) => file.path.split('/').filter(Boolean).join('/')));
  const folders = new Set([...paths].map((path) => path.split('/')[0]));
  if (result.bundle) {
    expect(result.diagnostics).toEqual([]);
    expect(bundleId(result.bundle)).toBe(result.bundle.id);
  } else {
    expect(result.diagnostics.length, 'no bundle means at least one diagnostic').toBeGreaterThan(0);
  }
  for (const d of result.diagnostics) {
    expect(known(d.code), `${d.code} is a stable code (compiler/codes.ts or POLICY_CODES)`).toBe(true);
    expect(typeof d.message === 'string' && d.message.length > 0, d.code).toBe(true);
    // a folder without api.json (MISSING_API_JSON, INVALID_API_ID) names the api.json that should be there
    const apiJsonOfFolder = d.file.endsWith('/api.json') && folders.has(d.file.slice(0, -'/api.json'.length));
    expect(paths.has(d.file) || apiJsonOfFolder, `${d.code} names a file of the tree: ${d.file}`).toBe(true);
    expect(Number.isInteger(d.line) && d.line >= 1 && Number.isInteger(d.column) && d.column >= 1, `${d.code} at ${d.line}:${d.column}`).toBe(true);
    const text = files.find((file) => file.path === d.file)?.text;
    if (text !== undefined && text !== '') expect(d.line, `${d.code} at a line of ${d.file}`).toBeLessThanOrEqual(text.split(/\r\n|\r|\n/).length);
  }
  for (const format of ['human', 'json', 'github'] as const) formatDiagnostics(result.diagnostics, format, { omitted: result.omitted });
  expect(process.memoryUsage().heapUsed - heapAtStart, 'heap stays bounded').toBeLessThan(MAX_HEAP_GROWTH);
}

// ---------------------------------------------------------------------------------------------
// Values

/** Strings users do not expect: lone surrogates, zero-width and bidi marks, NUL, emoji, combining marks. */
const oddString = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.constantFrom('\ud800', '\udfff', 'a\u0000b', '\u200b\u200d\ufeff', '\u202eevil', '👩‍👩‍👧‍👦', 'e\u0301\u0301\u0301', '/orders/\u0000', '__proto__', 'constructor', '{"env":"X"}', '-----BEGIN PRIVATE KEY-----'),
);
/** A string up to ~1.2 MiB (over the file limit sometimes). */
const hugeString = fc.tuple(fc.integer({ min: 1000, max: 1_200_000 }), fc.constantFrom('x', 'é', '/', '\\', '"', '€')).map(([n, c]) => c.repeat(Math.ceil(n / Buffer.byteLength(c))));
/** Arrays or objects nested up to 200 deep (over the depth limit sometimes). */
const deepValue = fc.tuple(fc.integer({ min: 1, max: 200 }), fc.boolean()).map(([depth, objects]) => {
  let value: unknown = 'leaf';
  for (let i = 0; i < depth; i++) value = objects ? { type: value } : [value];
  return value;
});
const anyValue = fc.oneof(
  { weight: 5, arbitrary: fc.jsonValue({ maxDepth: 4 }) },
  { weight: 2, arbitrary: oddString },
  { weight: 1, arbitrary: hugeString },
  { weight: 1, arbitrary: deepValue },
  { weight: 2, arbitrary: fc.constantFrom(null, true, 0, -1, 1e308, 2 ** 53 + 1, '', [], {}, 'started', 'kafka', 'http-get', 'mock', 'published', 'keyless', 'jwt') },
);

// ---------------------------------------------------------------------------------------------
// Mutations of a parsed example

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type Mutation =
  | { kind: 'delete'; at: number }
  | { kind: 'replace'; at: number; value: unknown }
  | { kind: 'insert'; at: number; key: string; value: unknown }
  | { kind: 'retype'; at: number };

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constant('delete' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('replace' as const), at: fc.nat(), value: anyValue }),
  fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), key: fc.oneof(oddString, fc.constantFrom('type', 'state', 'plan', 'contextPaths', 'flows', 'apiKeys', 'password', 'token')), value: anyValue }),
  fc.record({ kind: fc.constant('retype' as const), at: fc.nat() }),
);

/** Every container in `root` with the key of each child: the places a mutation can act. */
function places(root: Json): { parent: Json[] | Record<string, Json>; key: string | number }[] {
  const out: { parent: Json[] | Record<string, Json>; key: string | number }[] = [];
  const stack: Json[] = [root];
  while (stack.length) {
    const node = stack.pop()!;
    if (!node || typeof node !== 'object') continue;
    for (const key of Array.isArray(node) ? node.keys() : Object.keys(node)) {
      out.push({ parent: node, key });
      stack.push((node as Record<string | number, Json>)[key]);
    }
  }
  return out;
}

function mutate(root: Json, m: Mutation): Json {
  const all = places(root);
  if (all.length === 0) return m.kind === 'replace' ? (m.value as Json) : root;
  const { parent, key } = all[m.at % all.length];
  const target = parent as Record<string | number, Json>;
  switch (m.kind) {
    case 'delete':
      if (Array.isArray(parent)) parent.splice(key as number, 1);
      else delete target[key];
      break;
    case 'replace':
      target[key] = m.value as Json;
      break;
    case 'insert': {
      const container = target[key] && typeof target[key] === 'object' ? (target[key] as Record<string, Json>) : target;
      if (Array.isArray(container)) container.push(m.value as Json);
      else container[m.key] = m.value as Json;
      break;
    }
    case 'retype': {
      const value = target[key];
      target[key] = typeof value === 'string' ? value.length : typeof value === 'number' ? String(value) : Array.isArray(value) ? { ...value } : value && typeof value === 'object' ? Object.values(value) : [value];
    }
  }
  return root;
}

// ---------------------------------------------------------------------------------------------
// Byte-level corruption of a file's text

type Corruption = { kind: 'flip'; at: number; byte: number } | { kind: 'delete'; at: number; length: number } | { kind: 'insert'; at: number; bytes: Uint8Array } | { kind: 'truncate'; at: number };

const corruption: fc.Arbitrary<Corruption> = fc.oneof(
  fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), byte: fc.integer({ min: 0, max: 255 }) }),
  fc.record({ kind: fc.constant('delete' as const), at: fc.nat(), length: fc.integer({ min: 1, max: 40 }) }),
  fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), bytes: fc.oneof(fc.uint8Array({ maxLength: 16 }), fc.constantFrom(...['{', '}', '[', ']', ',', '"', ':', '\\', '\\u', '\n', '"a":1,', '/*', '\ufeff', '\u2028'].map((s) => new Uint8Array(Buffer.from(s))))) }),
  fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }),
);

function corrupt(bytes: Buffer, c: Corruption): Buffer {
  const at = bytes.length === 0 ? 0 : c.at % (bytes.length + 1);
  switch (c.kind) {
    case 'flip': {
      const out = Buffer.from(bytes);
      if (out.length) out[Math.min(at, out.length - 1)] = c.byte;
      return out;
    }
    case 'delete':
      return Buffer.concat([bytes.subarray(0, at), bytes.subarray(at + c.length)]);
    case 'insert':
      return Buffer.concat([bytes.subarray(0, at), Buffer.from(c.bytes), bytes.subarray(at)]);
    case 'truncate':
      return bytes.subarray(0, at);
  }
}

const FILE_NAMES = ['x/api.json', 'x/plans/gold.json', 'x/subscriptions/acme.json'] as const;

describe('fuzzing the definition files', () => {
  const settings = { numRuns: 400, interruptAfterTimeLimit: BUDGET_MS, markInterruptAsFailure: false };

  it('random JSON values as api.json, plan and subscription files', () => {
    fc.assert(
      fc.property(fc.tuple(anyValue, anyValue, anyValue), fc.boolean(), (values, pretty) => {
        const files = FILE_NAMES.map((path, i) => ({ path, text: pretty ? JSON.stringify(values[i], null, 2) ?? '' : JSON.stringify(values[i]) ?? '' }));
        compileAndCheck(files);
      }),
      settings,
    );
  }, 60_000);

  it('random trees: odd paths, odd names, unreadable entries', () => {
    const segment = fc.oneof(fc.constantFrom('api.json', 'plans', 'subscriptions', 'gold.json', 'a', 'A', '.hidden', 'README.md', 'x.yaml', '', '..', 'ü', 'a'.repeat(70)), fc.string({ maxLength: 8 }));
    const entry = fc.record({
      path: fc.array(segment, { minLength: 1, maxLength: 4 }).map((parts) => parts.join('/')),
      text: fc.oneof(fc.jsonValue({ maxDepth: 2 }).map((v) => JSON.stringify(v)), fc.string({ maxLength: 30 })),
      unreadable: fc.option(fc.constant('is a folder, not a file'), { nil: undefined }),
      code: fc.option(fc.constant('SYMLINK_OUTSIDE' as const), { nil: undefined }),
    });
    fc.assert(
      fc.property(fc.array(entry, { maxLength: 8 }), fc.boolean(), (entries, withExamples) => {
        const files: SourceFile[] = entries.map((e) => ({ path: e.path, text: e.text, ...(e.unreadable || e.code ? { unreadable: e.unreadable ?? 'is a symbolic link to a target outside the APIs folder', code: e.code } : {}) }));
        compileAndCheck(withExamples ? [...examples, ...files] : files);
      }),
      settings,
    );
  }, 60_000);

  it('structural mutations of the example APIs', () => {
    fc.assert(
      fc.property(fc.nat(), fc.array(mutation, { minLength: 1, maxLength: 5 }), fc.boolean(), (which, mutations, pretty) => {
        const index = which % examples.length;
        let value = JSON.parse(examples[index].text) as Json;
        for (const m of mutations) value = mutate(value, m);
        const text = (pretty ? JSON.stringify(value, null, 2) : JSON.stringify(value)) ?? '';
        compileAndCheck(examples.map((file, i) => (i === index ? { path: file.path, text } : file)));
      }),
      settings,
    );
  }, 60_000);

  it('byte-level corruption of the example files', () => {
    fc.assert(
      fc.property(fc.nat(), fc.array(corruption, { minLength: 1, maxLength: 6 }), (which, corruptions) => {
        const index = which % examples.length;
        let bytes: Buffer = Buffer.from(examples[index].text);
        for (const c of corruptions) bytes = corrupt(bytes, c);
        const decoded = decodeText(bytes);
        compileAndCheck(examples.map((file, i) => (i === index ? { path: file.path, ...decoded } : file)));
      }),
      settings,
    );
  }, 60_000);
});
