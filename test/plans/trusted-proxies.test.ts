/**
 * `--trusted-proxies CIDR,…`: from a trusted peer, `Forwarded: for=` (else `X-Forwarded-For`)
 * names the client address the auth-failure throttle, keyless rate limits and the request log
 * use (the right-most hop that is not itself a trusted proxy); from any other peer those headers
 * are ignored. Parsing is bounded; a bad CIDR is a usage error (exit 2).
 */
import { spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Gateway } from '../../runtime/gateway.ts';
import { clientAddress, parseTrustedProxies } from '../../runtime/http/client-address.ts';
import { parseServerFlags, UsageError } from '../../cli/options.ts';
import { gatewayWith } from '../support/harness.ts';
import { captureRequestLog } from '../runtime/request-log.ts';
import { JWT_SECRET_ENV, scenario } from './scenario.ts';
import { httpGet, type Credentials } from './transports.ts';

const s = scenario();
process.env[JWT_SECRET_ENV] = s.jwtSecret;
const wrongFrom = (forwarded: Record<string, string>): Credentials => ({ headers: { 'x-api-key': 'wrong-key', ...forwarded } });


describe('client address (unit)', () => {
  const proxies = parseTrustedProxies('10.0.0.0/8, 127.0.0.1/32,::1/128, 2001:db8:ffff::/48');

  it('from a trusted peer: the right-most X-Forwarded-For hop that is not a trusted proxy', () => {
    expect(clientAddress('127.0.0.1', { 'x-forwarded-for': '198.51.100.7' }, proxies)).toBe('198.51.100.7');
    expect(clientAddress('::ffff:127.0.0.1', { 'x-forwarded-for': '6.6.6.6, 198.51.100.7, 10.1.2.3' }, proxies)).toBe('198.51.100.7');
    expect(clientAddress('::1', { 'x-forwarded-for': ['6.6.6.6', '2001:DB8::9'] }, proxies)).toBe('2001:db8::9');
    expect(clientAddress('127.0.0.1', { 'x-forwarded-for': '198.51.100.7:5555' }, proxies)).toBe('198.51.100.7');
    // Every hop trusted: the left-most; a hop that is no address ends the walk at the proxy to its right.
    expect(clientAddress('127.0.0.1', { 'x-forwarded-for': '10.0.0.2, 10.0.0.3' }, proxies)).toBe('10.0.0.2');
    expect(clientAddress('127.0.0.1', { 'x-forwarded-for': 'unknown, 10.0.0.3' }, proxies)).toBe('10.0.0.3');
  });

  it('Forwarded (RFC 7239) first, quoted IPv6 with a port, obfuscated identifiers', () => {
    const headers = { forwarded: 'for=6.6.6.6, for="[2001:db8:cafe::17]:4711";proto=https, for=10.0.0.5;by=10.0.0.1', 'x-forwarded-for': '192.0.2.1' };
    expect(clientAddress('10.9.9.9', headers, proxies)).toBe('2001:db8:cafe::17');
    expect(clientAddress('10.9.9.9', { forwarded: 'For="192.0.2.60:8080"' }, proxies)).toBe('192.0.2.60');
    expect(clientAddress('10.9.9.9', { forwarded: 'for=_hidden' }, proxies)).toBe('10.9.9.9');
    expect(clientAddress('10.9.9.9', { forwarded: 'proto=https', 'x-forwarded-for': '192.0.2.1' }, proxies)).toBe('192.0.2.1');
  });

  it('from an untrusted peer, or without the flag, the headers are ignored', () => {
    expect(clientAddress('203.0.113.9', { 'x-forwarded-for': '198.51.100.7', forwarded: 'for=198.51.100.8' }, proxies)).toBe('203.0.113.9');
    expect(clientAddress('127.0.0.1', { 'x-forwarded-for': '198.51.100.7' }, undefined)).toBe('127.0.0.1');
  });

  it('a header of 10,000 addresses costs a bounded walk (only the last hops are examined)', () => {
    const many = Array.from({ length: 10_000 }, (_, i) => `10.0.${(i >> 8) & 255}.${i & 255}`).join(', ');
    const xff = { 'x-forwarded-for': `198.51.100.1, ${many}` };
    const forwarded = { forwarded: many.replaceAll('10.', 'for=10.') };
    const started = performance.now();
    for (let i = 0; i < 200; i += 1) {
      clientAddress('127.0.0.1', xff, proxies);
      clientAddress('127.0.0.1', forwarded, proxies);
    }
    expect(performance.now() - started).toBeLessThan(1_000);
    // Past the examined hops, the left-most examined (a trusted proxy) is the client, never the far-left entry.
    expect(clientAddress('127.0.0.1', { 'x-forwarded-for': `198.51.100.1, ${many}` }, proxies)).not.toBe('198.51.100.1');
  });

  it('a bad CIDR is a usage error naming it; the CLI exits 2', () => {
    for (const bad of ['10.0.0.0/33', 'localhost', '::1/129', '10.0.0.0/8/1', '', '1.2.3.4/x']) {
      expect(() => parseServerFlags(['--trusted-proxies', bad], [])).toThrow(UsageError);
    }
    expect(() => parseTrustedProxies('10.0.0.0/8,nope')).toThrow(/"nope" is not a CIDR/);
    expect(parseServerFlags(['--trusted-proxies', '127.0.0.1/32,::1'], []).server.trustedProxies?.has('::1')).toBe(true);
    const cli = spawnSync(process.execPath, ['bin/sluice.js', 'serve', '--bundle', 'none.json', '--trusted-proxies', '10.0.0.0/33'], { encoding: 'utf8', timeout: 30_000 });
    expect(cli.status).toBe(2);
    expect(cli.stderr).toMatch(/--trusted-proxies: "10\.0\.0\.0\/33" is not a CIDR/);
  });
});

describe('trusted proxies through a gateway', () => {
  let trusting: Gateway;
  let plain: Gateway;
  beforeAll(async () => {
    const authFailureLimit = { failures: 2, windowSeconds: 60 };
    trusting = await gatewayWith(s.build(), { trustedProxies: parseTrustedProxies('127.0.0.1/32'), authFailureLimit });
    plain = await gatewayWith(s.build(), { authFailureLimit });
  });
  afterAll(async () => {
    await trusting?.close();
    await plain?.close();
  });

  it('two forwarded addresses are throttled independently; the log line names the forwarded address', async () => {
    const capture = captureRequestLog();
    try {
      const first = { 'x-forwarded-for': '198.51.100.1' };
      const second = { forwarded: 'for="[2001:db8::2]:1234"' };
      for (let i = 0; i < 2; i += 1) expect((await httpGet(trusting, '/secure/', wrongFrom(first))).status).toBe(401);
      expect(await httpGet(trusting, '/secure/', wrongFrom(first))).toMatchObject({ status: 429, code: 'AUTH_THROTTLED' });
      expect(await httpGet(trusting, '/secure/', wrongFrom(second))).toMatchObject({ status: 401, code: 'API_KEY_INVALID' });
      const lines = capture.lines.filter((line) => line.path === '/secure/');
      expect(lines.map((line) => line.client)).toEqual(['198.51.100.1', '198.51.100.1', '198.51.100.1', '2001:db8::2']);
    } finally {
      capture.stop();
    }
  });

  it('without --trusted-proxies the headers are ignored: every request is the one peer address', async () => {
    const capture = captureRequestLog();
    try {
      expect((await httpGet(plain, '/secure/', wrongFrom({ 'x-forwarded-for': '198.51.100.1' }))).status).toBe(401);
      expect((await httpGet(plain, '/secure/', wrongFrom({ 'x-forwarded-for': '198.51.100.2' }))).status).toBe(401);
      expect(await httpGet(plain, '/secure/', wrongFrom({ 'x-forwarded-for': '198.51.100.3' }))).toMatchObject({ status: 429, code: 'AUTH_THROTTLED' });
      expect(new Set(capture.lines.map((line) => line.client))).toEqual(new Set(['127.0.0.1']));
    } finally {
      capture.stop();
    }
  });

  it('keyless rate limits count per forwarded address', async () => {
    // limited-open: 3 per hour per client address.
    const from = (address: string): Credentials => ({ headers: { 'x-forwarded-for': address } });
    for (let i = 0; i < 3; i += 1) expect((await httpGet(trusting, '/limited-open/', from('198.51.100.10'))).status).toBe(200);
    expect((await httpGet(trusting, '/limited-open/', from('198.51.100.10'))).status).toBe(429);
    expect((await httpGet(trusting, '/limited-open/', from('198.51.100.11'))).status).toBe(200);
  });
});
