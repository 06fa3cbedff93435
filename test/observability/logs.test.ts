/**
 * Structured logs of a real `sluice serve` process: JSON lines, the request id (incoming
 * X-Request-Id or a generated one) echoed and carried by the request's log lines, the level by
 * flag and LOG_LEVEL, and no credential ever written (API keys, tokens, Authorization, query
 * parameters), checked both end to end and on the logger's redaction rules.
 */
import { Writable } from 'node:stream';
import { randomBytes } from 'node:crypto';
import { pino } from 'pino';
import { SignJWT } from 'jose';
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LOG_OPTIONS, redactUrl } from '../../runtime/log.ts';
import { makeBundle } from '../support/bundles.ts';
import { newApiKey } from '../plans/fixtures.ts';
import { serve, type LogLine, type ServeProcess } from './serve-process.ts';

const SECRET_ENV = 'SLUICE_TEST_OBSERVABILITY_JWT_SECRET';
const jwtSecret = randomBytes(32).toString('base64url');
const key = newApiKey();
const wrongKey = `wrong-${randomBytes(12).toString('hex')}`;
const bundle = makeBundle({
  open: { definition: { contextPaths: ['/open/'], endpoints: [{ type: 'mock', messageInterval: 10 }] } },
  secure: {
    definition: { contextPaths: ['/secure/'], endpoints: [{ type: 'mock', messageInterval: 10 }] },
    plans: {
      gold: { type: 'api-key', name: 'Gold', status: 'published' },
      partners: { type: 'jwt', name: 'Partners', status: 'published', signature: 'HS256', secret: { env: SECRET_ENV } },
    },
    subscriptions: { acme: { plan: 'gold', apiKeys: [{ hash: key.hash }] }, partner: { plan: 'partners', clientId: 'acme-app' } },
  },
});
const token = () => new SignJWT({ azp: 'acme-app' }).setProtectedHeader({ alg: 'HS256' }).setIssuedAt().setExpirationTime('5m').sign(new TextEncoder().encode(jwtSecret));

const requestLines = (p: ServeProcess, id: string) => p.lines.filter((l) => l.requestId === id);
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** A WebSocket handshake: the response's status and X-Request-Id, the socket closed right after. */
function handshake(url: string, headers: Record<string, string>): Promise<{ status: number; requestId: string | undefined }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { headers });
    ws.on('error', () => undefined);
    ws.once('upgrade', (res) => {
      const requestId = res.headers['x-request-id'] as string | undefined;
      ws.once('open', () => ws.close());
      ws.once('close', () => resolve({ status: 101, requestId }));
    });
    ws.once('unexpected-response', (_req, res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode ?? 0, requestId: res.headers['x-request-id'] as string | undefined }));
    });
    setTimeout(() => reject(new Error('handshake timed out')), 5000).unref();
  });
}

describe('logs of sluice serve (trace level)', () => {
  let gateway: ServeProcess;
  beforeAll(async () => {
    gateway = await serve(bundle, ['--log-level', 'trace'], { [SECRET_ENV]: jwtSecret });
  });
  afterAll(async () => {
    await gateway?.stop();
  });

  it('writes one JSON object per line', () => {
    expect(gateway.lines.length).toBeGreaterThan(0);
    expect(gateway.lines.filter((l) => l.unparsed)).toEqual([]);
    expect(gateway.lines.every((l) => typeof l.level === 'number' && typeof l.time === 'string')).toBe(true);
  });

  it('keeps an incoming X-Request-Id, echoes it and puts it on the request log line', async () => {
    const res = await fetch(`${gateway.url}/open/?limit=1`, { headers: { 'x-request-id': 'req-observability-1' } });
    expect(res.status).toBe(200);
    await res.text();
    expect(res.headers.get('x-request-id')).toBe('req-observability-1');
    const line = await gateway.line((l) => l.requestId === 'req-observability-1' && l.event === 'request', 5000, 'the request line');
    expect(line).toMatchObject({ api: 'open', entrypoint: 'http-get', status: 200, path: '/open/', messages: 1 });
  });

  it('generates a request id when none (or an unusable one) is given', async () => {
    for (const given of [undefined, 'has spaces in it', 'x'.repeat(129)]) {
      const res = await fetch(`${gateway.url}/nowhere/`, { headers: given === undefined ? {} : { 'x-request-id': given } });
      expect(res.status).toBe(404);
      await res.text();
      const id = res.headers.get('x-request-id')!;
      expect(id).toMatch(UUID);
      const line = await gateway.line((l) => l.requestId === id && l.event === 'request', 5000, 'the 404 request line');
      expect(line).toMatchObject({ status: 404, code: 'NO_CONTEXT_PATH' });
    }
  });

  it('echoes the request id on WebSocket handshakes, accepted (101) and refused (401), and logs the connection with it', async () => {
    const wsBase = gateway.url.replace(/^http/, 'ws');
    const accepted = await handshake(`${wsBase}/open/`, { 'x-request-id': 'ws-observability-1' });
    expect(accepted).toEqual({ status: 101, requestId: 'ws-observability-1' });
    const closed = await gateway.line((l) => l.requestId === 'ws-observability-1' && l.event === 'request', 5000, 'the WebSocket connection line');
    expect(closed).toMatchObject({ api: 'open', entrypoint: 'websocket', status: 101 });

    const refused = await handshake(`${wsBase}/secure/`, { 'x-request-id': 'ws-observability-2', 'x-api-key': wrongKey });
    expect(refused).toEqual({ status: 401, requestId: 'ws-observability-2' });
    expect(await gateway.line((l) => l.requestId === 'ws-observability-2' && l.event === 'request', 5000, 'the refused handshake line')).toMatchObject({ status: 401, code: 'API_KEY_INVALID' });
    expect(requestLines(gateway, 'ws-observability-2').length).toBeGreaterThan(0);
  });

  it('never writes API keys, tokens, Authorization headers or credential query parameters', async () => {
    const jwt = await token();
    const attempts: [string, Record<string, string>, number][] = [
      [`/secure/?limit=1&api-key=${key.key}`, {}, 200],
      ['/secure/?limit=1', { 'x-api-key': key.key }, 200],
      ['/secure/?limit=1', { 'x-api-key': wrongKey }, 401],
      [`/secure/?limit=1&api-key=${wrongKey}`, {}, 401],
      ['/secure/?limit=1', { authorization: `Bearer ${jwt}` }, 200],
      [`/secure/?limit=1&access_token=${jwt}`, {}, 200],
      ['/secure/?limit=1', { authorization: `Bearer ${jwt}x` }, 401],
      ['/open/?limit=1', { cookie: `session=${wrongKey}`, 'proxy-authorization': `Basic ${wrongKey}` }, 200],
    ];
    const ids: string[] = [];
    for (const [path, headers, status] of attempts) {
      const id = `leak-check-${ids.length}`;
      ids.push(id);
      const res = await fetch(`${gateway.url}${path}`, { headers: { ...headers, 'x-request-id': id } });
      await res.text();
      expect(res.status, path).toBe(status);
    }
    const wsBase = gateway.url.replace(/^http/, 'ws');
    expect((await handshake(`${wsBase}/secure/?access_token=${jwt}`, { 'x-request-id': 'leak-check-ws' })).status).toBe(101);
    ids.push('leak-check-ws');
    for (const id of ids) await gateway.line((l) => l.requestId === id && l.event === 'request', 5000, `the line of ${id}`);

    const output = gateway.output();
    for (const secret of [key.key, wrongKey, jwt, jwt.split('.')[2]!, jwtSecret]) expect(output).not.toContain(secret);
  });
});

describe('log level', () => {
  const requestsLogged = async (args: string[], env: Record<string, string>): Promise<LogLine[]> => {
    const gateway = await serve(bundle, args, { [SECRET_ENV]: jwtSecret, ...env });
    try {
      const res = await fetch(`${gateway.url}/nowhere/`);
      await res.text();
      expect(res.status).toBe(404);
    } finally {
      expect(await gateway.stop()).toBe(0);
    }
    return gateway.lines.filter((l) => l.event === 'request');
  };

  it('LOG_LEVEL=warn silences request lines; --log-level info overrides it', async () => {
    expect(await requestsLogged([], { LOG_LEVEL: 'warn' })).toEqual([]);
    expect(await requestsLogged(['--log-level', 'info'], { LOG_LEVEL: 'warn' })).toHaveLength(1);
  }, 60_000);
});

describe('redaction rules', () => {
  const logged = (object: Record<string, unknown>): Record<string, unknown> => {
    let text = '';
    const sink = new Writable({ write(chunk, _enc, done) { text += String(chunk); done(); } });
    pino({ ...LOG_OPTIONS, level: 'info' }, sink).info(object, 'x');
    return JSON.parse(text) as Record<string, unknown>;
  };

  it('censors credential fields at the top level, one object down and in headers', () => {
    const line = logged({
      authorization: 'Bearer a', 'x-api-key': 'k', apiKey: 'k', token: 't', password: 'p',
      headers: { authorization: 'Bearer b', 'x-api-key': 'k2', cookie: 'c', accept: 'text/plain' },
      req: { headers: { authorization: 'Bearer c' } },
      sasl: { password: 'p2', username: 'bob' },
    });
    expect(line).toMatchObject({
      authorization: '[redacted]', 'x-api-key': '[redacted]', apiKey: '[redacted]', token: '[redacted]', password: '[redacted]',
      headers: { authorization: '[redacted]', 'x-api-key': '[redacted]', cookie: '[redacted]', accept: 'text/plain' },
      req: { headers: { authorization: '[redacted]' } },
      sasl: { password: '[redacted]', username: 'bob' },
    });
  });

  it('removes credential query parameter values from url and path fields', () => {
    expect(redactUrl('/a/?api-key=K&limit=2&access_token=T&Api-Key=K2')).toBe('/a/?api-key=[redacted]&limit=2&access_token=[redacted]&Api-Key=[redacted]');
    expect(logged({ url: '/x?token=T', path: '/y?api%2Dkey=K' })).toMatchObject({ url: '/x?token=[redacted]', path: '/y?api%2Dkey=[redacted]' });
  });
});
