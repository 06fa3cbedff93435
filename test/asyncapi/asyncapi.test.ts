/**
 * AsyncAPI 3.0 documents (core/asyncapi/build.ts, `sluice asyncapi`): every example API of apis/ and
 * docs/examples/ gives a document that @asyncapi/parser validates with no error, and the mapping of
 * plans to security schemes, of json-validate to payloads and of entrypoints to operations is the one
 * docs/reference/asyncapi.md describes.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Parser } from '@asyncapi/parser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compileFolder } from '../../compiler/index.ts';
import { buildAsyncApi } from '../../core/asyncapi/build.ts';
import type { BundleApi } from '../../schemas/types.ts';
import { bundleApi } from '../support/bundles.ts';

const repo = fileURLToPath(new URL('../../', import.meta.url));
const parser = new Parser();

async function errorsOf(document: unknown): Promise<string[]> {
  const diagnostics = await parser.validate(JSON.stringify(document));
  return diagnostics.filter((d) => d.severity === 0).map((d) => `${d.code} at ${d.path.join('/')}: ${d.message}`);
}

const EXAMPLE_FOLDERS = ['apis', 'docs/examples'].filter((dir) => existsSync(join(repo, dir)));

describe('every example API', () => {
  it.each(EXAMPLE_FOLDERS)('%s: each API gives an AsyncAPI 3.0.0 document with no parser error', async (dir) => {
    const { bundle, diagnostics } = await compileFolder(join(repo, dir));
    expect(diagnostics).toEqual([]);
    const apis = Object.values(bundle!.apis);
    expect(apis.length).toBeGreaterThan(0);
    for (const api of apis) {
      const document = buildAsyncApi(api);
      expect(document.asyncapi).toBe('3.0.0');
      expect({ api: api.id, errors: await errorsOf(document) }).toEqual({ api: api.id, errors: [] });
    }
  });
});

type Doc = Record<string, any>;
const build = (api: BundleApi, serverUrl = 'http://localhost:8082'): Doc => buildAsyncApi(api, { serverUrl }) as Doc;

describe('mapping', () => {
  it('a context path template is a channel address with its parameters (described, with the pattern)', async () => {
    const api = bundleApi('sensors', { definition: {
      contextPaths: ['/sensors/{deviceId}/'], parameters: { deviceId: { description: 'The device.', pattern: '[a-z]+' } },
      entrypoints: [{ type: 'websocket' }],
      endpoints: [{ type: 'mqtt', serverHost: 'mqtt.internal', consumer: { topic: 'sensors/{deviceId}' } }],
    } as never });
    const doc = build(api);
    expect(doc.channels['sensors-deviceid-ws'] ?? Object.values(doc.channels)[0]).toMatchObject({ address: '/sensors/{deviceId}/', parameters: { deviceId: { description: 'The device. Pattern: [a-z]+' } } });
    expect(await errorsOf(doc)).toEqual([]);
  });

  it('entrypoints: subscribe modes are `send` (the gateway sends), publish modes `receive`, on http and ws servers', async () => {
    const doc = build(bundleApi('orders', { definition: { entrypoints: [{ type: 'http-get' }, { type: 'http-post' }, { type: 'sse' }, { type: 'websocket', subscriber: false }] } }));
    expect(Object.fromEntries(Object.entries(doc.operations).map(([id, op]: [string, any]) => [id, [op.action, op.channel.$ref]]))).toEqual({
      'send-http-get': ['send', '#/channels/orders-http'],
      'receive-http-post': ['receive', '#/channels/orders-http'],
      'send-sse': ['send', '#/channels/orders-http'],
      'receive-websocket': ['receive', '#/channels/orders-ws'],
    });
    expect(doc.operations['send-http-get'].bindings.http.method).toBe('GET');
    expect(doc.operations['receive-http-post'].bindings.http.method).toBe('POST');
    expect(doc.servers).toEqual({
      http: expect.objectContaining({ host: 'localhost:8082', protocol: 'http' }),
      ws: expect.objectContaining({ host: 'localhost:8082', protocol: 'ws' }),
    });
    expect(doc.channels['orders-http'].address).toBe('/orders/');
    expect(doc.channels['orders-ws'].bindings).toEqual({ ws: { method: 'GET', bindingVersion: '0.1.0' } });
    expect(await errorsOf(doc)).toEqual([]);
  });

  it('--server-url https://… gives https and wss servers with its path', () => {
    const doc = build(bundleApi('q'), 'https://api.example.com/gw');
    expect(doc.servers.http).toMatchObject({ host: 'api.example.com', protocol: 'https', pathname: '/gw' });
    expect(doc.servers.ws).toMatchObject({ host: 'api.example.com', protocol: 'wss', pathname: '/gw' });
  });

  it('security: api-key in header and query, jwt as http bearer JWT, on every request operation', async () => {
    const doc = build(bundleApi('secure', {
      plans: {
        gold: { type: 'api-key', name: 'Gold', status: 'published', header: 'X-Key' },
        partners: { type: 'jwt', name: 'Partners', status: 'published', signature: 'RS256', jwksUrl: 'https://idp.example.com/jwks.json', issuer: 'https://idp.example.com/' },
        draft: { type: 'api-key', name: 'Draft', status: 'staging' },
      },
    }));
    expect(doc.components.securitySchemes).toEqual({
      'gold-header': expect.objectContaining({ type: 'httpApiKey', in: 'header', name: 'X-Key' }),
      'gold-query': expect.objectContaining({ type: 'httpApiKey', in: 'query', name: 'api-key' }),
      'partners-bearer': expect.objectContaining({ type: 'http', scheme: 'bearer', bearerFormat: 'JWT' }),
    });
    for (const op of Object.values(doc.operations) as Doc[]) {
      expect(op.security.map((s: Doc) => s.$ref)).toEqual(['#/components/securitySchemes/gold-header', '#/components/securitySchemes/gold-query', '#/components/securitySchemes/partners-bearer']);
    }
    expect(await errorsOf(doc)).toEqual([]);
  });

  it('security: a published keyless plan means no security requirement; push plans add no scheme and webhook sends carry none', async () => {
    const open = build(bundleApi('open', { plans: { open: { type: 'keyless', name: 'Open', status: 'published' }, gold: { type: 'api-key', name: 'Gold', status: 'published' } } }));
    expect(Object.values(open.operations).every((op: any) => op.security === undefined)).toBe(true);
    expect(Object.keys(open.components.securitySchemes)).toEqual(['gold-header', 'gold-query']);

    const hooks = build(bundleApi('hooks', {
      definition: { entrypoints: [{ type: 'webhook' }], endpoints: [{ type: 'kafka', bootstrapServers: ['k:9092'], consumer: { topics: ['orders'] } }] },
      plans: { hooks: { type: 'push', name: 'Hooks', status: 'published' } },
    }));
    expect(hooks.components.securitySchemes).toBeUndefined();
    expect(hooks.operations['send-webhook']).toMatchObject({ action: 'send', description: expect.stringContaining('callbackUrl') });
    expect(hooks.operations['send-webhook'].description).toContain('Push plans: Hooks (hooks).');
    expect(hooks.operations['send-webhook'].security).toBeUndefined();
    expect(hooks.channels['hooks-http']['x-sluice-broker']).toEqual([{ type: 'kafka', consumes: ['orders'] }]);
    expect(await errorsOf(hooks)).toEqual([]);
  });

  it('payload: the json-validate schema of each flow, else any content with the mock content as example', async () => {
    const schema = { type: 'object', required: ['id'], properties: { id: { type: 'integer' } } };
    const doc = build(bundleApi('typed', {
      definition: {
        entrypoints: [{ type: 'websocket' }],
        flows: { publish: [{ policy: 'json-validate', schema }], subscribe: [{ policy: 'max-size', maxBytes: 10 }] },
        endpoints: [{ type: 'mock', messageContent: '{"id":1}' }],
      },
    }));
    expect(doc.components.messages.publishMessage).toMatchObject({ contentType: 'application/json', payload: { schemaFormat: 'application/schema+json;version=draft-07', schema } });
    expect(doc.components.messages.subscribeMessage.payload).toMatchObject({ examples: ['{"id":1}'] });
    expect(doc.components.messages.subscribeMessage.contentType).toBeUndefined();
    expect(doc.operations['receive-websocket'].messages).toEqual([{ $ref: '#/channels/typed-ws/messages/publishMessage' }]);
    expect(await errorsOf(doc)).toEqual([]);
  });

  it('info: name, version, description with the plans, labels as tags; subscriptions never appear', () => {
    const doc = build(bundleApi('info', {
      definition: { name: 'Info API', version: '2.1', description: 'About.', labels: ['a', 'b'], lifecycle: 'published', visibility: 'public' },
      subscriptions: { acme: { plan: 'open', apiKeys: [{ hash: 'sha256:secret-hash' }] } as never },
    }));
    expect(doc.info).toMatchObject({ title: 'Info API', version: '2.1', tags: [{ name: 'a' }, { name: 'b' }], 'x-sluice-lifecycle': 'published', 'x-sluice-visibility': 'public' });
    expect(doc.info.description).toMatch(/^About\.\n\nPlans: Open \(open, keyless\)\.$/);
    expect(JSON.stringify(doc)).not.toMatch(/acme|secret-hash/);
  });
});

describe('sluice asyncapi', () => {
  let out: string;
  beforeAll(async () => {
    out = await mkdtemp(join(tmpdir(), 'sluice-asyncapi-'));
  });
  afterAll(async () => {
    await rm(out, { recursive: true, force: true });
  });
  const sluice = (...args: string[]) =>
    new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
      execFile(process.execPath, [join(repo, 'bin/sluice.js'), ...args], { cwd: repo, timeout: 60_000 }, (error, stdout, stderr) => {
        resolve({ code: error ? (typeof error.code === 'number' ? error.code : -1) : 0, stdout, stderr });
      });
    });

  it('writes DIR/<api-id>.asyncapi.json for every API of the folder, on --server-url', async () => {
    const { code, stdout } = await sluice('asyncapi', 'apis', '--out', out, '--server-url', 'https://gw.example.com');
    expect(code).toBe(0);
    const { bundle } = await compileFolder(join(repo, 'apis'));
    const expected = Object.keys(bundle!.apis).map((id) => `${id}.asyncapi.json`).sort();
    expect((await readdir(out)).sort()).toEqual(expected);
    expect(stdout).toContain(`wrote ${join(out, expected[0]!)}`);
    const doc = JSON.parse(await readFile(join(out, expected[0]!), 'utf8'));
    expect(doc.asyncapi).toBe('3.0.0');
    expect(Object.values(doc.servers).map((s: any) => s.host)).toContain('gw.example.com');
  });

  it('exit 2 without --out or with a --server-url that is not http(s); exit 1 on an invalid folder', async () => {
    expect((await sluice('asyncapi', 'apis')).stderr).toContain('--out DIR is required');
    const bad = await sluice('asyncapi', 'apis', '--out', out, '--server-url', 'ftp://x');
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--server-url must start with http:// or https://');
    const invalid = await sluice('asyncapi', 'test/fixtures/invalid/overlapping-context-path/apis', '--out', join(out, 'never'));
    expect(invalid.code).toBe(1);
    expect(existsSync(join(out, 'never'))).toBe(false);
  });
});
