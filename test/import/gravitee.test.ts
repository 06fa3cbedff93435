/**
 * `sluice import gravitee` (compiler/import/gravitee, cli/import.ts) on exports written from Gravitee's
 * published v4 definition format:
 *   - the export document `{export, api, members, metadata, pages, plans, apiMedia}` with
 *     `api.definitionVersion: "V4"`, `listeners[].entrypoints[]`, `endpointGroups[].endpoints[]`,
 *     `sharedConfiguration`, plans with `security.type` KEY_LESS / API_KEY / JWT and `mode: PUSH`, as the
 *     management API v2 `POST /environments/{env}/apis/_import/definition` takes and the Console's export
 *     gives (Gravitee APIM 4.x; example payloads in gravitee-io repositories);
 *   - v4 message API entrypoints http-get, http-post, websocket, webhook, sse:
 *     https://documentation.gravitee.io/apim/guides/api-configuration/v4-api-configuration/entrypoints/v4-message-api-entrypoints
 *   - endpoints Kafka, MQTT 5, Mock (gravitee-io/gravitee-platform-docs,
 *     docs/apim/4.0/guides/api-configuration/v4-api-configuration/endpoint-configuration.md); the mock
 *     endpoint's messageInterval (default 1000 ms), messageContent (default "mock message"), messageCount:
 *     https://documentation.gravitee.io/apim/configure-v4-apis/endpoints/mock
 *   - the quickstart's Message Proxy API (keyless plan, HTTP GET entrypoint, mock endpoint):
 *     https://documentation.gravitee.io/apim/getting-started/quickstart-guide/gateway-apis-101-traditional-and-message-proxies/message-proxy
 * Fixtures: test/fixtures/gravitee/*.json.
 */
import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compileFolder } from '../../compiler/index.ts';
import { convertGravitee } from '../../compiler/import/gravitee/convert.ts';
import { gatewayWith } from '../support/harness.ts';

const repo = fileURLToPath(new URL('../../', import.meta.url));
const fixture = (name: string) => join(repo, 'test/fixtures/gravitee', name);
const load = (name: string): unknown => JSON.parse(readFileSync(fixture(name), 'utf8'));

function sluice(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [join(repo, 'bin/sluice.js'), ...args], { cwd: repo, timeout: 60_000 }, (error, stdout, stderr) => {
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : -1) : 0, stdout, stderr });
    });
  });
}

let work: string;
beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'sluice-import-'));
});
afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

describe('the quickstart Message Proxy API', () => {
  it('imports with no warning, validates, and serves GET → 200 with four "mock message" items', async () => {
    const out = join(work, 'quickstart');
    const { code, stdout } = await sluice('import', 'gravitee', fixture('message-proxy-quickstart.json'), '--out', out, '--strict');
    expect(code).toBe(0);
    expect(stdout).toContain(`wrote ${join(out, 'message-proxy-api')} (api.json, 1 plan); 0 settings not carried over`);
    const api = JSON.parse(await readFile(join(out, 'message-proxy-api', 'api.json'), 'utf8'));
    expect(api).toMatchObject({ name: 'Message Proxy API', lifecycle: 'published', visibility: 'public', contextPaths: ['/qs-message-api/'], entrypoints: [{ type: 'http-get' }], endpoints: [{ type: 'mock', messageContent: 'mock message', messageInterval: 1000 }] });
    expect(await readdir(join(out, 'message-proxy-api', 'plans'))).toEqual(['default-keyless-unsecured.json']);

    const { bundle, diagnostics } = await compileFolder(out);
    expect(diagnostics).toEqual([]);
    const gateway = await gatewayWith(bundle);
    try {
      const res = await fetch(`${gateway.url}/qs-message-api`, { headers: { Accept: '*/*', 'User-Agent': 'curl/8' } });
      expect(res.status).toBe(200);
      const body = await res.json();
      expect(body.items.map((item: { content: string }) => item.content)).toEqual(['mock message', 'mock message', 'mock message', 'mock message']);
    } finally {
      await gateway.close();
    }
  }, 20_000);
});

describe('kafka with api-key and jwt plans', () => {
  it('maps entrypoints, the kafka group, plan flows (rate-limit, quota) and message policies; the folder validates', async () => {
    const result = convertGravitee(load('kafka-api-key.json'));
    if (!result.ok) throw new Error(result.error);
    expect(result.warnings).toEqual([]);
    expect(result.id).toBe('orders-events');
    expect(result.files['api.json']).toMatchObject({
      version: '2.0',
      visibility: 'private',
      labels: ['orders', 'kafka'],
      entrypoints: [{ type: 'sse', heartbeatIntervalInMs: 5000 }, { type: 'websocket', publisher: false, subscriber: true }, { type: 'http-post', requestHeadersToMessage: true }],
      endpoints: [{ type: 'kafka', bootstrapServers: ['kafka-1.internal:9092', 'kafka-2.internal:9092'], consumer: { topics: ['orders'], autoOffsetReset: 'latest' }, producer: { topic: 'orders' }, security: { protocol: 'PLAINTEXT' } }],
      flows: {
        publish: [
          { policy: 'json-validate', schema: { type: 'object', required: ['id'], properties: { id: { type: 'integer' } } } },
          { policy: 'headers', set: { 'x-source': 'gravitee-import' }, remove: ['x-internal'] },
        ],
        subscribe: [],
      },
    });
    expect(result.files['plans/gold.json']).toEqual({
      type: 'api-key',
      name: 'Gold',
      description: 'Partners with an API key.',
      status: 'published',
      rateLimit: { limit: 600, periodTime: 1, periodTimeUnit: 'MINUTES' },
      quota: { limit: 100000, periodTime: 1, periodTimeUnit: 'MONTHS' },
    });
    expect(result.files['plans/partners-jwt.json']).toEqual({ type: 'jwt', name: 'Partners JWT', status: 'staging', signature: 'RS256', jwksUrl: 'https://idp.example.com/.well-known/jwks.json', clientIdClaim: 'azp' });

    const out = join(work, 'kafka');
    expect((await sluice('import', 'gravitee', fixture('kafka-api-key.json'), '--out', out)).code).toBe(0);
    expect((await compileFolder(out)).diagnostics).toEqual([]);
  });
});

describe('settings Sluice cannot carry over', () => {
  it('lists each with its JSON path and code; secrets become env references and never reach the files', () => {
    const result = convertGravitee(load('unsupported-settings.json'));
    if (!result.ok) throw new Error(result.error);
    const listed = result.warnings.map((w) => `${w.code} ${w.path}`);
    expect(listed).toEqual(expect.arrayContaining([
      'IMPORT_NOT_CARRIED $.api.listeners[0].paths[0].host',
      'IMPORT_NOT_CARRIED $.api.listeners[0].entrypoints[0].qos',
      'IMPORT_NOT_CARRIED $.api.listeners[1].entrypoints[0].configuration.proxy',
      'IMPORT_NOT_CARRIED $.api.listeners[2].type',
      'IMPORT_NOT_CARRIED $.api.endpointGroups[0].endpoints',
      'IMPORT_SECRET_REFERENCE $.api.endpointGroups[0].sharedConfiguration.security.auth.password',
      'IMPORT_NOT_CARRIED $.api.endpointGroups[1].type',
      'IMPORT_NOT_CARRIED $.api.flows[0].request[0]',
      'IMPORT_NOT_CARRIED $.api.flows[0].subscribe[0].policy',
      'IMPORT_EXPRESSION $.api.flows[0].subscribe[1].condition',
      'IMPORT_NOT_CARRIED $.api.properties',
      'IMPORT_NOT_CARRIED $.api.resources',
      'IMPORT_NOT_CARRIED $.api.tags',
      'IMPORT_NOT_CARRIED $.plans[0].validation',
      'IMPORT_SECRET_REFERENCE $.plans[1].security.configuration.resolverParameter',
      'IMPORT_NOT_CARRIED $.plans[2].security.type',
      'IMPORT_NOT_CARRIED $.members',
      'IMPORT_NOT_CARRIED $.pages',
    ]));
    const text = JSON.stringify(result.files);
    expect(text).not.toContain('s3cr3t-mqtt');
    expect(text).not.toContain('do-not-copy-this-hmac-key');
    expect(result.files['api.json']).toMatchObject({
      state: 'stopped',
      lifecycle: 'unpublished',
      entrypoints: [{ type: 'sse' }, { type: 'http-get', messagesLimitCount: 100 }, { type: 'webhook' }],
      endpoints: [{ type: 'mqtt', serverHost: 'mqtt.internal', consumer: { topic: 'telemetry/#' }, security: { auth: { username: 'gateway', password: { env: 'TELEMETRY_HUB_MQTT_PASSWORD' } } } }],
      flows: { subscribe: [{ policy: 'json-validate', schema: { type: 'object' } }] },
    });
    expect(result.files['plans/webhooks.json']).toMatchObject({ type: 'push', status: 'published' });
    expect(result.files['plans/internal-hmac.json']).toMatchObject({ type: 'jwt', signature: 'HS256', secret: { env: 'TELEMETRY_HUB_INTERNAL_HMAC_JWT_SECRET' } });
    expect(Object.keys(result.files)).not.toContain('plans/mtls.json');
  });

  it('exit 0 and writes a folder that validates; with --strict exit 1 and nothing written', async () => {
    const strictOut = join(work, 'strict');
    const strict = await sluice('import', 'gravitee', fixture('unsupported-settings.json'), '--out', strictOut, '--strict');
    expect(strict.code).toBe(1);
    expect(strict.stdout).toMatch(/^warning IMPORT_NOT_CARRIED \$\.api\.listeners\[0\]\.paths\[0\]\.host: virtual host "telemetry\.example\.com"/m);
    expect(strict.stdout).toMatch(/--strict: \d+ settings not carried over; nothing written/);
    expect(existsSync(join(strictOut, 'telemetry-hub'))).toBe(false);

    const out = join(work, 'lenient');
    const lenient = await sluice('import', 'gravitee', fixture('unsupported-settings.json'), '--out', out);
    expect(lenient.code).toBe(0);
    expect(lenient.stdout).toMatch(/wrote .*telemetry-hub \(api\.json, 2 plans\); \d+ settings not carried over/);
    expect((await compileFolder(out)).diagnostics).toEqual([]);
  });
});

describe('a converted folder that does not validate', () => {
  it('is written, its diagnostics printed, exit 1', async () => {
    const broken = load('kafka-api-key.json') as { api: { endpointGroups: { sharedConfiguration: Record<string, unknown> }[] } };
    broken.api.endpointGroups[0]!.sharedConfiguration.consumer = { enabled: true };
    const file = join(work, 'no-topics.json');
    await writeFile(file, JSON.stringify(broken));
    const out = join(work, 'no-topics');
    const { code, stdout } = await sluice('import', 'gravitee', file, '--out', out);
    expect(code).toBe(1);
    expect(stdout).toMatch(/orders-events\/api\.json:\d+:\d+ KAFKA_TOPICS_REQUIRED/);
    expect(stdout).toContain('does not validate yet');
    expect(existsSync(join(out, 'orders-events', 'api.json'))).toBe(true);
  });
});

describe('refusals (exit 2)', () => {
  it('a v2 definition or a proxy API, with a message naming the field', async () => {
    const v2 = join(work, 'v2.json');
    await writeFile(v2, JSON.stringify({ api: { definitionVersion: 'V2', name: 'Old', type: 'PROXY' } }));
    const old = await sluice('import', 'gravitee', v2, '--out', join(work, 'refused'));
    expect(old.code).toBe(2);
    expect(old.stderr).toContain('definitionVersion is "V2": only Gravitee v4 API definitions');

    const proxy = join(work, 'proxy.json');
    await writeFile(proxy, JSON.stringify({ api: { definitionVersion: 'V4', name: 'Proxy', type: 'PROXY' } }));
    const refused = await sluice('import', 'gravitee', proxy, '--out', join(work, 'refused'));
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('type is "PROXY": only v4 message APIs');
    expect(existsSync(join(work, 'refused'))).toBe(false);
  });

  it('never overwrites an existing API folder', async () => {
    const out = join(work, 'twice');
    expect((await sluice('import', 'gravitee', fixture('message-proxy-quickstart.json'), '--out', out)).code).toBe(0);
    const before = await readFile(join(out, 'message-proxy-api', 'api.json'), 'utf8');
    const again = await sluice('import', 'gravitee', fixture('message-proxy-quickstart.json'), '--out', out);
    expect(again.code).toBe(2);
    expect(again.stderr).toContain('message-proxy-api already exists: nothing written');
    expect(await readFile(join(out, 'message-proxy-api', 'api.json'), 'utf8')).toBe(before);
  });

  it('usage errors: no source, an unknown source, a missing or unreadable file', async () => {
    expect((await sluice('import')).stderr).toContain('name the source: sluice import gravitee EXPORT.json');
    expect((await sluice('import', 'kong', 'x.json')).stderr).toContain('unknown source "kong"');
    const missing = await sluice('import', 'gravitee', join(work, 'nope.json'));
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('cannot read');
  });
});
