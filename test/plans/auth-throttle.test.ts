/**
 * Failed authentications are throttled per API and client address (IPv4 address, IPv6 /64): after
 * N failures in a window every request presenting a credential from that address to that API gets
 * 429 AUTH_THROTTLED with Retry-After, over HTTP GET and before the WebSocket upgrade; successes do
 * not count; other addresses and other APIs pass; keyless requests are never throttled.
 */
import { get } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import type { Gateway } from '../../runtime/gateway.ts';
import {
  AuthThrottle, clientKey, DEFAULT_AUTH_FAILURE_LIMIT, MAX_ADDRESSES, parseAuthFailureLimit, type AuthFailureLimit,
} from '../../runtime/plans/auth-failures.ts';
import { parseServerFlags } from '../../cli/options.ts';
import { gatewayWith } from '../support/harness.ts';
import { rejection } from './fixtures.ts';
import { JWT_SECRET_ENV, scenario } from './scenario.ts';
import { httpGet, websocketHandshake, type Credentials } from './transports.ts';

const s = scenario();
process.env[JWT_SECRET_ENV] = s.jwtSecret;
const good: Credentials = { headers: { 'x-api-key': s.keys.acme.key } };
const wrong: Credentials = { headers: { 'x-api-key': 'wrong-key' } };

describe('auth failure throttle (unit)', () => {
  let throttle = new AuthThrottle();
  const checkAuthThrottle = (apiId: string, address: string, now?: number) => throttle.check(apiId, address, now);
  const recordAuthFailure = (apiId: string, address: string, now?: number) => throttle.record(apiId, address, now);
  const setAuthFailureLimit = (limit: AuthFailureLimit | null) => void (throttle = new AuthThrottle(limit));
  const attempt = async (address: string, now: number) => rejection(Promise.resolve().then(() => checkAuthThrottle('api', address, now)));

  it('keys IPv4 by address, IPv4-mapped IPv6 as IPv4, IPv6 by /64', () => {
    expect(clientKey('10.0.0.1')).toBe('10.0.0.1');
    expect(clientKey('::ffff:10.0.0.1')).toBe('10.0.0.1');
    expect(clientKey('2001:db8:1:2::5')).toBe('2001:db8:1:2::/64');
    expect(clientKey('2001:0DB8:1:2:ffff:1:2:9')).toBe('2001:db8:1:2::/64');
    expect(clientKey('fe80::1%eth0')).toBe('fe80:0:0:0::/64');
    expect(clientKey('2001:db8:1:3::5')).not.toBe(clientKey('2001:db8:1:2::5'));
    expect(clientKey('::1')).toBe('0:0:0:0::/64');
  });

  it('refuses an address after N failures until its window ends; others are not affected', async () => {
    setAuthFailureLimit({ failures: 3, windowSeconds: 10 });
    const t = 1_000_000;
    for (let i = 0; i < 3; i += 1) {
      expect(() => checkAuthThrottle('api', '2001:db8::1', t)).not.toThrow();
      recordAuthFailure('api', `2001:db8::${i + 1}`, t + i);
    }
    const refused = await attempt('2001:db8::ff', t + 2_500);
    expect(refused).toMatchObject({ status: 429, code: 'AUTH_THROTTLED', headers: { 'Retry-After': '8' } });
    expect(() => checkAuthThrottle('api', '2001:db8:0:1::1', t + 2_500)).not.toThrow();
    expect(() => checkAuthThrottle('api', '10.0.0.1', t + 2_500)).not.toThrow();
    expect(() => checkAuthThrottle('other-api', '2001:db8::ff', t + 2_500)).not.toThrow();
    expect(() => checkAuthThrottle('api', '2001:db8::1', t + 10_000)).not.toThrow();
    recordAuthFailure('api', '2001:db8::1', t + 10_000);
    expect(() => checkAuthThrottle('api', '2001:db8::1', t + 10_001)).not.toThrow();
  });

  it('stays bounded: past MAX_ADDRESSES the oldest address is forgotten', async () => {
    setAuthFailureLimit({ failures: 1, windowSeconds: 60 });
    recordAuthFailure('api', '10.255.255.255', 0);
    expect((await attempt('10.255.255.255', 1)).code).toBe('AUTH_THROTTLED');
    for (let i = 0; i < MAX_ADDRESSES; i += 1) recordAuthFailure('api', `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`, 1);
    expect(() => checkAuthThrottle('api', '10.255.255.255', 2)).not.toThrow();
    expect((await attempt(`10.0.0.${(MAX_ADDRESSES - 1) & 255}`, 2)).code).toBe('AUTH_THROTTLED');
  });

  it('parses --auth-failure-limit N/SECONDS or 0; serve flags default to 20/10', () => {
    expect(parseAuthFailureLimit(undefined)).toEqual(DEFAULT_AUTH_FAILURE_LIMIT);
    expect(DEFAULT_AUTH_FAILURE_LIMIT).toEqual({ failures: 20, windowSeconds: 10 });
    expect(parseAuthFailureLimit('5/60')).toEqual({ failures: 5, windowSeconds: 60 });
    expect(parseAuthFailureLimit('0')).toBeNull();
    for (const bad of ['', '5', '0/10', '5/0', 'x/y', '-1/10']) expect(() => parseAuthFailureLimit(bad)).toThrow(/N\/SECONDS/);
    expect(() => parseServerFlags(['--auth-failure-limit', 'lots'], [])).toThrow(/--auth-failure-limit/);
    expect(parseServerFlags([], []).server.authFailureLimit).toEqual(DEFAULT_AUTH_FAILURE_LIMIT);
    setAuthFailureLimit(parseServerFlags(['--auth-failure-limit', '1/60'], []).server.authFailureLimit);
    recordAuthFailure('api', '10.1.1.1');
    expect(() => checkAuthThrottle('api', '10.1.1.1')).toThrow(/Too many failed/);
    setAuthFailureLimit(parseServerFlags(['--auth-failure-limit', '0'], []).server.authFailureLimit);
    recordAuthFailure('api', '10.1.1.1');
    expect(() => checkAuthThrottle('api', '10.1.1.1')).not.toThrow();
  });
});

describe('auth failure throttle through a gateway', () => {
  let gateway: Gateway;
  /** Each test starts its gateway with its own limit (startGateway's authFailureLimit, as `sluice serve` passes --auth-failure-limit). */
  const start = async (authFailureLimit: AuthFailureLimit | null) => (gateway = await gatewayWith(s.build(), { authFailureLimit }));
  afterEach(() => gateway?.close());

  /** GET from another loopback source address (127.0.0.2): a different client. */
  const getFrom = (localAddress: string, path: string, headers: Record<string, string>) =>
    new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = get(`${gateway.url}${path}?limit=1`, { localAddress, headers: { accept: 'application/json', ...headers } }, (res) => {
        let body = '';
        res.setEncoding('utf8').on('data', (chunk: string) => (body += chunk)).on('end', () => resolve({ status: res.statusCode!, body }));
      });
      req.on('error', reject).setTimeout(5_000, () => req.destroy(new Error(`GET ${path} from ${localAddress} timed out`)));
    });

  it('successes do not count; after N failures HTTP GET and the WebSocket handshake get 429 AUTH_THROTTLED, even with a good key', async () => {
    await start({ failures: 3, windowSeconds: 60 });
    for (let i = 0; i < 5; i += 1) expect((await httpGet(gateway, '/secure/', good)).status).toBe(200);
    for (let i = 0; i < 5; i += 1) expect((await websocketHandshake(gateway, '/secure/', good)).status).toBe(101);
    // Three failed authentications (401) from this address use up its window.
    for (let i = 0; i < 3; i += 1) expect(await httpGet(gateway, '/secure/', wrong)).toMatchObject({ status: 401, code: 'API_KEY_INVALID' });

    const throttled = await httpGet(gateway, '/secure/', good);
    expect(throttled).toMatchObject({ status: 429, code: 'AUTH_THROTTLED' });
    expect(Number(throttled.headers['retry-after'])).toBeGreaterThan(50);
    expect(Number(throttled.headers['retry-after'])).toBeLessThanOrEqual(60);
    const handshake = await websocketHandshake(gateway, '/secure/', good);
    expect(handshake).toMatchObject({ status: 429, code: 'AUTH_THROTTLED' });
    expect(Number(handshake.headers['retry-after'])).toBeGreaterThan(50);
    // Another API counts on its own: a wrong key there is a plain 401, a good one passes.
    expect(await websocketHandshake(gateway, '/keyed/', wrong)).toMatchObject({ status: 401, code: 'API_KEY_INVALID' });
    expect((await httpGet(gateway, '/keyed/', good)).status).toBe(200);

    // Another client address is not affected.
    expect((await getFrom('127.0.0.2', '/secure/', { 'x-api-key': s.keys.acme.key })).status).toBe(200);
    expect((await getFrom('127.0.0.2', '/secure/', { 'x-api-key': 'wrong-key' })).status).toBe(401);
  });

  it('a throttled address keeps its access to a keyless plan (never AUTH_THROTTLED without a credential)', async () => {
    await start({ failures: 2, windowSeconds: 60 });
    for (let i = 0; i < 2; i += 1) expect(await httpGet(gateway, '/mixed/', wrong)).toMatchObject({ status: 401, code: 'API_KEY_INVALID' });
    expect(await httpGet(gateway, '/mixed/', good)).toMatchObject({ status: 429, code: 'AUTH_THROTTLED' });
    expect(await websocketHandshake(gateway, '/mixed/', wrong)).toMatchObject({ status: 429, code: 'AUTH_THROTTLED' });
    expect((await httpGet(gateway, '/mixed/', { headers: {} })).status).toBe(200);
    expect((await websocketHandshake(gateway, '/mixed/', { headers: {} })).status).toBe(101);
  });

  it('turned off (0), failures are never throttled', async () => {
    await start(null);
    for (let i = 0; i < 30; i += 1) expect((await httpGet(gateway, '/secure/', wrong)).status).toBe(401);
    expect((await httpGet(gateway, '/secure/', good)).status).toBe(200);
  });
});
