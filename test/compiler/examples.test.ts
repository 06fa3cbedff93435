/**
 * The example APIs compile (apis/: what `npm start` serves, the quickstart only; docs/examples/:
 * the Kafka, MQTT and webhook examples, which need a broker or a secret), and bundle ids depend
 * on content only (not key order, whitespace, file order).
 */
import { describe, expect, it } from 'vitest';
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bundleId, canonicalJson, compileFolder, compileTree, readFolder, writeBundle, type SourceFile } from '../../compiler/index.ts';
import type { Bundle } from '../../schemas/types.ts';

const source = { kind: 'folder', compilerVersion: 'test' } as const;

/** The files of apis/ and docs/examples/ together (their API ids differ). */
const exampleFiles = async (): Promise<SourceFile[]> => [...(await readFolder('apis')), ...(await readFolder('docs/examples'))];

/** The same JSON with keys in reverse order at every level. */
function reversed(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(reversed);
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).reverse().map(([k, v]) => [k, reversed(v)]));
  }
  return value;
}

describe('example APIs', () => {
  it('compile clean, with defaults filled, $schema stripped and context paths normalised', async () => {
    const { bundle, diagnostics } = await compileFolder('apis');
    expect(diagnostics).toEqual([]);
    // Only what starts without a broker or a secret: `npm start` greets a newcomer without an error.
    expect(Object.keys(bundle!.apis).sort()).toEqual(['qs-message-api']);
    const qs = bundle!.apis['qs-message-api'];
    expect(qs.definition.contextPaths).toEqual(['/qs-message-api/']);
    expect(qs.definition.entrypoints).toEqual([
      { type: 'http-get', messagesLimitCount: 500, messagesLimitDurationMs: 5000, headersInPayload: false, metadataInPayload: false, qos: 'auto' },
      { type: 'websocket', publisher: true, subscriber: true, maxFrameBytes: 1048576, pingIntervalMs: 30000, messageEnvelope: false, qos: 'auto' },
    ]);
    expect(qs.definition.endpoints[0]).toMatchObject({ type: 'mock', messageInterval: 1000, messageContent: 'mock message' });
    expect(qs.plans.open).toMatchObject({ type: 'keyless', status: 'published' });
    // Browsers may read the rate-limit headers unless the API lists its own exposeHeaders.
    expect(qs.definition.cors!.exposeHeaders).toEqual(['Retry-After', 'X-Rate-Limit-Limit', 'X-Rate-Limit-Remaining', 'X-Rate-Limit-Reset', 'X-Request-Id']);
    expect(canonicalJson(bundle)).not.toContain('$schema');
    expect(bundle!.id).toBe(bundleId(bundle!));
    expect(bundle!.source).toMatchObject({ kind: 'folder', path: 'apis' });
  });

  it('every example file names its schema by a relative $schema that exists', async () => {
    for (const [root, below] of [['apis', 1], ['docs/examples', 2]] as const) {
      for (const file of await readFolder(root)) {
        const { $schema } = JSON.parse(file.text) as { $schema?: string };
        const kind = file.path.endsWith('/api.json') ? 'api' : file.path.includes('/plans/') ? 'plan' : 'subscription';
        const depth = file.path.split('/').length - 1;
        expect($schema, `${root}/${file.path}`).toBe(`${'../'.repeat(depth + below)}schemas/${kind}.schema.json`);
      }
    }
  });
});

describe('bundle id', () => {
  it('does not change with key order, whitespace, file order or createdAt/source', async () => {
    const files = await exampleFiles();
    const first = compileTree(files, { source, now: new Date(0) }).bundle!;
    const reformatted: SourceFile[] = files
      .map((file) => ({ path: file.path, text: `\n\n${JSON.stringify(reversed(JSON.parse(file.text)), null, '\t')}\r\n` }))
      .reverse();
    const second = compileTree(reformatted, { source: { kind: 'git', compilerVersion: 'other', commit: 'abc' } }).bundle!;
    expect(second.id).toBe(first.id);
    expect(canonicalJson({ formatVersion: 1, apis: second.apis })).toBe(canonicalJson({ formatVersion: 1, apis: first.apis }));
  });

  it('changes when the content changes', async () => {
    const files = await exampleFiles();
    const before = compileTree(files, { source }).bundle!.id;
    const changed = files.map((f) => (f.path === 'qs-message-api/api.json' ? { ...f, text: f.text.replace('"1.0"', '"1.1"') } : f));
    expect(compileTree(changed, { source }).bundle!.id).not.toBe(before);
  });

  it('writing a default explicitly gives the same id as leaving it out', () => {
    const api = (entry: object) => ({ path: 'x/api.json', text: JSON.stringify({ name: 'X', contextPaths: ['/x'], entrypoints: [entry], endpoints: [{ type: 'mock' }] }) });
    const plan = { path: 'x/plans/open.json', text: '{"type":"keyless","name":"Open","status":"published"}' };
    const a = compileTree([api({ type: 'http-get' }), plan], { source }).bundle!;
    const b = compileTree([api({ type: 'http-get', messagesLimitCount: 500 }), plan], { source }).bundle!;
    expect(a.id).toBe(b.id);
  });

  it('is written to DIR/<id>.json as canonical JSON and verifies', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'sluice-bundle-'));
    try {
      const { bundle } = await compileFolder('apis');
      const path = await writeBundle(dir, bundle!);
      expect(path).toBe(join(dir, `${bundle!.id}.json`));
      expect(await readdir(dir)).toEqual([`${bundle!.id}.json`]);
      const text = await readFile(path, 'utf8');
      expect(text).toBe(`${canonicalJson(bundle)}\n`);
      const read = JSON.parse(text) as Bundle;
      expect(bundleId(read)).toBe(read.id);
      read.apis['qs-message-api'].definition.name = 'tampered';
      expect(bundleId(read)).not.toBe(read.id);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('canonicalJson', () => {
  it('sorts keys by code unit at every level, keeps array order, drops undefined, no whitespace', () => {
    expect(canonicalJson({ b: [3, { z: 1, a: undefined, y: null }], a: 'é', '10': 1, '9': 2, B: true })).toBe(
      '{"10":1,"9":2,"B":true,"a":"é","b":[3,{"y":null,"z":1}]}',
    );
  });
});
