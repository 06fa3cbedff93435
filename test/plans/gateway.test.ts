/**
 * Plans through a real gateway: every credential case over every entrypoint, plan resolution,
 * rate limits with their headers, a JWT that ends a WebSocket at exp, and /status.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Gateway } from '../../runtime/gateway.ts';
import type { Entrypoint } from '../../schemas/types.ts';
import { connect, gatewayWith, within, wsUrl } from '../support/harness.ts';
import { JWT_SECRET_ENV, scenario } from './scenario.ts';
import { httpGet, httpPost, sse, websocketHandshake, type Credentials, type Transport } from './transports.ts';

const s = scenario();
process.env[JWT_SECRET_ENV] = s.jwtSecret;
const now = () => Math.floor(Date.now() / 1000);

const extra: Entrypoint[] = [{ type: 'http-post' }, { type: 'sse' }];
const transports: [string, Transport, number][] = [
  ['HTTP GET', httpGet, 200],
  ['HTTP POST', httpPost, 202],
  ['SSE', sse, 200],
  ['WebSocket handshake', websocketHandshake, 101],
];

let gateway: Gateway;
beforeAll(async () => {
  gateway = await gatewayWith(s.build(extra));
});
afterAll(() => gateway?.close());

const apiKey = (key: string): Credentials => ({ headers: { 'x-api-key': key } });
const bearer = (token: string): Credentials => ({ headers: { authorization: `Bearer ${token}` } });

describe.each(transports)('credentials over %s', (_name, attempt, okStatus) => {
  const cases: [string, string, () => Promise<Credentials>, number, string | undefined][] = [
    ['valid API key', '/secure/', async () => apiKey(s.keys.acme.key), okStatus, undefined],
    ['valid API key in the query', '/secure/', async () => ({ query: `api-key=${s.keys.acme.key}` }), okStatus, undefined],
    ['valid JWT', '/secure/', async () => bearer(await s.token()), okStatus, undefined],
    ['valid JWT in the query', '/secure/', async () => ({ query: `access_token=${await s.token()}` }), okStatus, undefined],
    ['missing (two plans)', '/secure/', async () => ({}), 401, 'PLAN_UNRESOLVABLE'],
    ['missing (only an api-key plan)', '/keyed/', async () => ({}), 401, 'API_KEY_MISSING'],
    ['malformed JWT', '/secure/', async () => bearer('not.a-jwt'), 401, 'JWT_MALFORMED'],
    ['wrong API key', '/secure/', async () => apiKey('wrong-key'), 401, 'API_KEY_INVALID'],
    ['JWT signed with another secret', '/secure/', async () => bearer(await s.token({}, { secret: 'another-secret-of-sufficient-len' })), 401, 'JWT_INVALID_SIGNATURE'],
    ['expired JWT', '/secure/', async () => bearer(await s.token({}, { exp: now() - 60 })), 401, 'JWT_EXPIRED'],
    ['not-yet-valid JWT', '/secure/', async () => bearer(await s.token({}, { nbf: now() + 600 })), 401, 'JWT_NOT_YET_VALID'],
    ['JWT without exp (requireExp defaults to true)', '/secure/', async () => bearer(await s.token({}, { exp: null })), 401, 'JWT_EXP_MISSING'],
    ['JWT issued in the future', '/secure/', async () => bearer(await s.token({}, { iat: now() + 600 })), 401, 'JWT_NOT_YET_VALID'],
    ['JWT for another audience', '/secure/', async () => bearer(await s.token({ aud: 'billing-api' })), 401, 'JWT_INVALID_AUDIENCE'],
    ['revoked subscription', '/secure/', async () => apiKey(s.keys.revoked.key), 401, 'SUBSCRIPTION_NOT_ACTIVE'],
    ['paused subscription of a second (deprecated) api-key plan', '/secure/', async () => apiKey(s.keys.paused.key), 401, 'SUBSCRIPTION_NOT_ACTIVE'],
    ['key of a staging plan', '/secure/', async () => apiKey(s.keys.staging.key), 401, 'API_KEY_INVALID'],
    ['key of a closed plan', '/secure/', async () => apiKey(s.keys.closed.key), 401, 'API_KEY_INVALID'],
    ['a bad JWT beside a good key (jwt is tried first)', '/secure/', async () => ({ headers: { 'x-api-key': s.keys.acme.key, authorization: 'Bearer x.y.z' } }), 401, 'JWT_MALFORMED'],
    ['wrong key where keyless is also served (no fallback)', '/mixed/', async () => apiKey('wrong-key'), 401, 'API_KEY_INVALID'],
    ['no key where keyless is also served', '/mixed/', async () => ({}), okStatus, undefined],
  ];
  it.each(cases)('%s', async (_case, path, credentials, status, code) => {
    const result = await attempt(gateway, path, await credentials());
    expect({ status: result.status, code: result.code }).toEqual({ status, code });
    if (status === 401 && code?.startsWith('JWT_')) expect(result.headers['www-authenticate']).toMatch(/^Bearer/);
  });
});

describe('rate limits through the gateway', () => {
  it.each(transports.map((t, i) => [...t, i] as const))('%s: 3 per hour per subscription, then 429 with Retry-After and X-Rate-Limit-*', async (_name, attempt, okStatus, i) => {
    const credentials = apiKey(s.keys.perTransport[i]!.key);
    for (let n = 1; n <= 3; n += 1) {
      const admitted = await attempt(gateway, '/limited-keyed/', credentials);
      expect(admitted.status).toBe(okStatus);
      if (okStatus !== 101) expect(admitted.headers).toMatchObject({ 'x-rate-limit-limit': '3', 'x-rate-limit-remaining': String(3 - n) });
    }
    const refused = await attempt(gateway, '/limited-keyed/', credentials);
    expect(refused).toMatchObject({ status: 429, code: 'RATE_LIMIT_EXCEEDED' });
    expect(refused.headers).toMatchObject({ 'x-rate-limit-limit': '3', 'x-rate-limit-remaining': '0' });
    expect(Number(refused.headers['retry-after'])).toBeGreaterThan(0);
    expect(Number(refused.headers['retry-after'])).toBeLessThanOrEqual(3600);
    expect(Number(refused.headers['x-rate-limit-reset'])).toBeGreaterThan(Date.now());
  });

  it('a subscription\'s own limit replaces the plan\'s', async () => {
    expect((await httpGet(gateway, '/limited-keyed/', apiKey(s.keys.limited.key))).status).toBe(200);
    expect(await httpGet(gateway, '/limited-keyed/', apiKey(s.keys.limited.key))).toMatchObject({ status: 429, code: 'RATE_LIMIT_EXCEEDED' });
  });

  it('keyless callers count per client address, and admitted responses carry the headers', async () => {
    const first = await httpGet(gateway, '/limited-open/', {});
    expect(first.headers).toMatchObject({ 'x-rate-limit-limit': '3', 'x-rate-limit-remaining': '2' });
    await httpGet(gateway, '/limited-open/', {});
    await httpGet(gateway, '/limited-open/', {});
    expect(await websocketHandshake(gateway, '/limited-open/', {})).toMatchObject({ status: 429, code: 'RATE_LIMIT_EXCEEDED' });
  });

  it('a WebSocket publishing over the limit is closed with 1008', async () => {
    const client = connect(wsUrl(gateway, '/limited-keyed/'), { headers: { 'x-api-key': s.keys.chatty.key } });
    await within(client.opened, 5_000, 'the handshake');
    for (let i = 0; i < 5; i += 1) client.ws.send(`message ${i}`);
    const closed = await within(client.closed, 5_000, 'the close after the 3rd call');
    expect(closed.code).toBe(1008);
    expect(closed.reason).toMatch(/Rate limit exceeded/);
  });
});

describe('a stream never outlives its token', () => {
  it('a JWT with 2 s left keeps a WebSocket open for 2 s, then it closes with 1008', async () => {
    const exp = Math.ceil(Date.now() / 1000) + 2;
    const client = connect(wsUrl(gateway, '/secure/'), { headers: { authorization: `Bearer ${await s.token({}, { exp })}` } });
    await within(client.opened, 5_000, 'the handshake');
    const opened = Date.now();
    const closed = await within(client.closed, 6_000, 'the close at exp');
    const closedAt = Date.now();
    expect(closed.code).toBe(1008);
    expect(closedAt).toBeGreaterThanOrEqual(exp * 1000 - 50);
    expect(closedAt - opened).toBeGreaterThanOrEqual(1_500);
    expect(closedAt - exp * 1000).toBeLessThan(1_000);
    // It was a live stream until then.
    expect(client.messages.length).toBeGreaterThan(10);
  });

  it('an SSE stream ends at exp', async () => {
    const exp = Math.ceil(Date.now() / 1000) + 2;
    const response = await fetch(`${gateway.url}/secure/`, { headers: { accept: 'text/event-stream', authorization: `Bearer ${await s.token({}, { exp })}` } });
    expect(response.status).toBe(200);
    const body = await within(response.text(), 6_000, 'the SSE stream to end at exp');
    const endedAt = Date.now();
    expect(endedAt).toBeGreaterThanOrEqual(exp * 1000 - 50);
    expect(endedAt - exp * 1000).toBeLessThan(1_000);
    expect(body).toMatch(/event: message/);
  });

  it('a long poll ends at exp with what it has', async () => {
    const exp = Math.ceil(Date.now() / 1000) + 1;
    const started = Date.now();
    const response = await fetch(`${gateway.url}/secure/`, { headers: { accept: 'application/json', authorization: `Bearer ${await s.token({}, { exp })}` } });
    expect(response.status).toBe(200);
    const body = (await response.json()) as { items: unknown[] };
    expect(Date.now() - started).toBeLessThan(4_000);
    expect(body.items.length).toBeGreaterThan(0);
  });
});

describe('/status on the admin port', () => {
  it('lists plans and subscriptions with status, window and counters, and no key material', async () => {
    const response = await fetch(`${gateway.adminUrl}/status`);
    const text = await response.text();
    const status = JSON.parse(text) as { apis: Record<string, { plans: Record<string, any> }> };
    const secure = status.apis.secure!.plans;
    expect(secure.gold).toMatchObject({ type: 'api-key', status: 'published', served: true });
    expect(secure.beta).toMatchObject({ status: 'staging', served: false });
    expect(secure.old).toMatchObject({ status: 'closed', served: false });
    expect(secure.gold.subscriptions.acme).toMatchObject({ status: 'accepted', active: true, apiKeys: { count: 1, expired: 0 } });
    expect(secure.gold.subscriptions.acme.counters.requests).toBeGreaterThan(0);
    expect(secure.gold.subscriptions.revoked).toMatchObject({ status: 'closed', active: false });
    expect(secure.partners.subscriptions.partner).toMatchObject({ clientId: 'acme-app', active: true });
    expect(status.apis['limited-keyed']!.plans.gold.subscriptions.chatty.counters.rejected).toBeGreaterThan(0);
    expect(status.apis['limited-keyed']!.plans.gold.rateLimit).toEqual({ limit: 3, periodTime: 1, periodTimeUnit: 'HOURS' });
    for (const key of [s.keys.acme, s.keys.revoked, s.keys.staging, s.keys.closed, s.keys.chatty]) {
      expect(text).not.toContain(key.key);
      expect(text).not.toContain(key.hash);
    }
    expect(text).not.toContain(s.jwtSecret);
  });
});
