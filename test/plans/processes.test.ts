/**
 * Two `sluice serve` processes sharing one Redis enforce one limit together; Redis stopping takes
 * neither down (they allow and log once), Redis returning makes limits apply again. The bundle is
 * compiled from an API folder by the real compiler. Nothing secret appears in the logs, the bundle
 * or /status. Uses its own redis-server on a free port (never the machine's Redis).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { SignJWT } from 'jose';
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compileFolder, writeBundle } from '../../compiler/index.ts';
import { newApiKey } from './fixtures.ts';
import { startPrivateRedis, type PrivateRedis } from './redis-server.ts';

const ROOT = resolve(import.meta.dirname, '../..');
const key = newApiKey();
const jwtSecret = randomBytes(32).toString('base64url');

interface Runtime {
  readonly child: ChildProcess;
  readonly url: string;
  readonly adminUrl: string;
  output: string;
}

function writeApiFolder(dir: string): void {
  const write = (path: string, value: unknown) => {
    mkdirSync(join(dir, path, '..'), { recursive: true });
    writeFileSync(join(dir, path), JSON.stringify(value, null, 2));
  };
  write('shared/api.json', {
    name: 'Shared limits', state: 'started', lifecycle: 'published', contextPaths: ['/shared'],
    entrypoints: [{ type: 'http-get' }, { type: 'http-post' }, { type: 'sse' }, { type: 'websocket' }], endpoints: [{ type: 'mock', messageInterval: 20 }],
  });
  write('shared/plans/gold.json', { type: 'api-key', name: 'Gold', status: 'published', rateLimit: { limit: 10, periodTime: 1, periodTimeUnit: 'MINUTES' } });
  write('shared/plans/partners.json', { type: 'jwt', name: 'Partners', status: 'published', signature: 'HS256', secret: { env: 'SHARED_JWT_SECRET' } });
  write('shared/subscriptions/acme.json', { plan: 'gold', apiKeys: [{ hash: key.hash }] });
  write('shared/subscriptions/fleet.json', { plan: 'partners', clientId: 'fleet' });
}

async function startRuntime(bundleFile: string, redisUrl: string, prefix: string): Promise<Runtime> {
  const child = spawn(process.execPath, ['bin/sluice.js', 'serve', '--bundle', bundleFile, '--port', '0', '--admin-port', '0', '--drain-delay', '0',
    '--redis', redisUrl, '--redis-key-prefix', prefix], {
    cwd: ROOT,
    env: { ...process.env, SHARED_JWT_SECRET: jwtSecret, LOG_LEVEL: 'info' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const runtime = { child, url: '', adminUrl: '', output: '' };
  child.stdout!.on('data', (chunk: Buffer) => (runtime.output += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (runtime.output += chunk.toString()));
  await new Promise<void>((ready, fail) => {
    const timer = setTimeout(() => fail(new Error(`sluice serve did not start in 30 s:\n${runtime.output}`)), 30_000);
    const check = () => {
      const match = /serving (http:\/\/\S+) \(admin (http:\/\/\S+)\)/.exec(runtime.output);
      if (!match) return;
      clearTimeout(timer);
      child.stderr!.off('data', check);
      runtime.url = match[1]!;
      runtime.adminUrl = match[2]!;
      ready();
    };
    child.stderr!.on('data', check);
    child.once('exit', (code) => fail(new Error(`sluice serve exited with ${code}:\n${runtime.output}`)));
  });
  // Serving the bundle?
  for (let i = 0; i < 100; i += 1) {
    if ((await fetch(`${runtime.adminUrl}/readyz`)).status === 200) return runtime;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`the runtime never became ready:\n${runtime.output}`);
}

async function stopRuntime(runtime: Runtime | undefined): Promise<void> {
  if (!runtime || runtime.child.exitCode !== null) return;
  await new Promise<void>((done) => {
    runtime.child.once('exit', () => done());
    runtime.child.kill('SIGTERM');
  });
}

const get = (runtime: Runtime, init: { query?: string; headers?: Record<string, string> } = { headers: { 'x-api-key': key.key } }) =>
  fetch(`${runtime.url}/shared?limit=1${init.query ? `&${init.query}` : ''}`, { headers: { accept: 'application/json', ...init.headers } })
    .then(async (response) => ({ status: response.status, limit: response.headers.get('x-rate-limit-limit'), body: await response.text() }));

/** Waits until the window has at least 15 s left, so a count never straddles two windows. */
async function awayFromWindowEnd(): Promise<void> {
  const left = 60_000 - (Date.now() % 60_000);
  if (left < 15_000) await new Promise((r) => setTimeout(r, left + 100));
}

describe('two runtime processes sharing Redis', () => {
  let redis: PrivateRedis;
  let dir: string;
  let bundleFile: string;
  const runtimes: Runtime[] = [];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'sluice-plans-'));
    writeApiFolder(join(dir, 'apis'));
    const { bundle, diagnostics } = await compileFolder(join(dir, 'apis'));
    if (!bundle) throw new Error(`the API folder does not compile: ${JSON.stringify(diagnostics)}`);
    bundleFile = await writeBundle(join(dir, 'bundles'), bundle);
    redis = await startPrivateRedis();
    const prefix = `sluice-test:${randomUUID()}:`;
    runtimes.push(...(await Promise.all([startRuntime(bundleFile, redis.url, prefix), startRuntime(bundleFile, redis.url, prefix)])));
  }, 90_000);

  afterAll(async () => {
    await Promise.all(runtimes.map(stopRuntime));
    await redis?.stop();
  });

  it('enforce one limit together (10/min: the 11th request across both is 429), survive Redis stopping, and limit again once it returns', async () => {
    const [a, b] = runtimes as [Runtime, Runtime];
    await awayFromWindowEnd();
    for (let i = 0; i < 10; i += 1) {
      const result = await get(i % 2 ? b : a);
      expect({ i, status: result.status, limit: result.limit }).toEqual({ i, status: 200, limit: '10' });
    }
    const eleventh = await get(b);
    expect(eleventh.status).toBe(429);
    expect(JSON.parse(eleventh.body)).toMatchObject({ code: 'RATE_LIMIT_EXCEEDED' });
    expect((await get(a)).status).toBe(429);

    // Redis goes away: both keep serving (allow strategy), each logs the outage once.
    await redis.stop();
    for (let i = 0; i < 6; i += 1) {
      const result = await get(i % 2 ? b : a);
      expect({ i, status: result.status }).toEqual({ i, status: 200 });
    }
    for (const runtime of [a, b]) expect(runtime.output.match(/Redis unreachable/g)).toHaveLength(1);

    // Redis returns (empty): limits apply again across both.
    await redis.start();
    const deadline = Date.now() + 15_000;
    while ((await get(a)).limit !== '10') {
      if (Date.now() > deadline) throw new Error(`limits did not apply again within 15 s:\n${a.output.slice(-2000)}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    await awayFromWindowEnd();
    let admitted = 0;
    let refused = false;
    for (let i = 0; i < 12 && !refused; i += 1) {
      const result = await get(i % 2 ? a : b);
      if (result.status === 429) refused = true;
      else if (result.status === 200) admitted += 1;
    }
    expect(refused).toBe(true);
    expect(admitted).toBeLessThanOrEqual(10);
    for (const runtime of [a, b]) expect(runtime.output).toMatch(/Redis reachable again/);
  }, 90_000);

  it('no key, token or secret appears in the logs, the bundle or /status', async () => {
    const [a, b] = runtimes as [Runtime, Runtime];
    const token = await new SignJWT({ azp: 'fleet' }).setProtectedHeader({ alg: 'HS256' }).setExpirationTime('5m').sign(new TextEncoder().encode(jwtSecret));
    // Credentials in every place a client may put them, valid and not.
    await get(a, { headers: { authorization: `Bearer ${token}` } });
    await get(b, { query: `access_token=${token}` });
    await get(a, { query: `api-key=${key.key}` });
    await get(b, { headers: { 'x-api-key': key.key } });
    await get(a, { headers: { authorization: `Bearer ${token}x` } });
    await get(b, { query: `api-key=${key.key}x` });
    const post = await fetch(`${a.url}/shared?api-key=${key.key}`, { method: 'POST', body: 'x' });
    expect(post.status).toBeLessThan(500);
    const events = new AbortController();
    const stream = await fetch(`${b.url}/shared?access_token=${token}`, { headers: { accept: 'text/event-stream' }, signal: events.signal });
    expect(stream.status).toBe(200);
    events.abort();
    for (const query of [`access_token=${token}`, `api-key=${key.key}x`]) {
      const ws = new WebSocket(`${a.url.replace('http', 'ws')}/shared?${query}`);
      await new Promise<void>((done) => {
        ws.on('open', () => ws.close());
        ws.on('close', () => done());
        ws.on('error', () => done());
      });
    }
    await new Promise((r) => setTimeout(r, 200)); // let the last request lines reach the pipes
    const status = await (await fetch(`${a.adminUrl}/status`)).text();
    expect(status).toContain('"acme"');
    const bundle = readFileSync(bundleFile, 'utf8');
    expect(bundle).toContain(key.hash);
    expect(bundle).toContain('SHARED_JWT_SECRET');
    const logs = a.output + b.output;
    expect(logs).toMatch(/"path":"\/shared"/);
    for (const [where, text] of [['logs', logs], ['bundle', bundle], ['/status', status]] as const) {
      for (const secret of [key.key, token, jwtSecret, token.split('.')[2]!]) {
        expect({ where, leaked: text.includes(secret) }).toEqual({ where, leaked: false });
      }
    }
    expect(status).not.toContain(key.hash);
  });
});
