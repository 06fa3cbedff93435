import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Subscription } from '../../schemas/types.ts';
import type { Counters } from '../../runtime/rate-limit/counters.ts';
import { CountersUnavailable } from '../../runtime/rate-limit/counters.ts';
import { createRateLimiter } from '../../runtime/rate-limit/limiter.ts';
import { createMemoryCounters } from '../../runtime/rate-limit/memory.ts';
import { AdmissionStats } from '../../runtime/rate-limit/stats.ts';
import { compileRule } from '../../runtime/rate-limit/window.ts';
import { rejection } from './fixtures.ts';

const acme = { planKey: 'gold', planType: 'api-key', subscription: 'acme', rateKey: 'sub:acme' } as const;
const T0 = Date.parse('2030-03-10T12:00:00Z');

describe('fixed windows', () => {
  it('align to the epoch, or to UTC calendar months', () => {
    expect(compileRule({ limit: 1, periodTime: 10, periodTimeUnit: 'SECONDS' }).windowAt(T0 + 12_345)).toEqual({ start: T0 + 10_000, resetAt: T0 + 20_000 });
    expect(compileRule({ limit: 1 }).windowAt(T0 + 61_000)).toEqual({ start: T0 + 60_000, resetAt: T0 + 120_000 });
    expect(compileRule({ limit: 1, periodTimeUnit: 'DAYS' }).windowAt(T0)).toEqual({
      start: Date.parse('2030-03-10T00:00:00Z'), resetAt: Date.parse('2030-03-11T00:00:00Z'),
    });
    expect(compileRule({ limit: 1, periodTimeUnit: 'MONTHS' }).windowAt(T0)).toEqual({
      start: Date.parse('2030-03-01T00:00:00Z'), resetAt: Date.parse('2030-04-01T00:00:00Z'),
    });
    expect(compileRule({ limit: 1, periodTime: 12, periodTimeUnit: 'MONTHS' }).windowAt(T0)).toEqual({
      start: Date.parse('2030-01-01T00:00:00Z'), resetAt: Date.parse('2031-01-01T00:00:00Z'),
    });
  });
});

describe('memory counters', () => {
  it('count per key and window, and start again after the window', async () => {
    let now = T0;
    const counters = createMemoryCounters({ now: () => now });
    expect(await counters.increment('a', T0 + 1000)).toBe(1);
    expect(await counters.increment('a', T0 + 1000)).toBe(2);
    expect(await counters.increment('b', T0 + 1000)).toBe(1);
    now = T0 + 1000;
    expect(await counters.increment('a', T0 + 2000)).toBe(1);
    await counters.close();
  });

  it('stay bounded: expired windows are swept, then the oldest dropped', async () => {
    let now = T0;
    const counters = createMemoryCounters({ now: () => now, maxKeys: 100 });
    for (let i = 0; i < 100; i += 1) await counters.increment(`old-${i}`, T0 + 10);
    now = T0 + 10;
    await counters.increment('fresh', T0 + 1000);
    expect(counters.size).toBe(1);
    for (let i = 0; i < 500; i += 1) await counters.increment(`k-${i}`, T0 + 1000);
    expect(counters.size).toBe(100);
    await counters.close();
  });
});

describe('rate limiter', () => {
  let now = T0;
  let counters: Counters;
  let stats: AdmissionStats;
  const readCounters = (apiId: string, planKey: string, subscription?: string) => stats.read(apiId, planKey, subscription);
  beforeEach(() => {
    now = T0;
    counters = createMemoryCounters({ now: () => now });
    stats = new AdmissionStats();
  });
  afterEach(() => counters.close());
  const limiter = (plan: object, subscriptions: Record<string, Subscription> = {}, strategy: 'allow' | 'deny' = 'allow', store = () => counters) =>
    createRateLimiter({ apiId: 'orders', planKey: 'gold', plan, subscriptions }, { counters: store, stats, now: () => now, errorStrategy: () => strategy });

  it('admits `limit` calls per window with X-Rate-Limit-* headers, then 429 with Retry-After', async () => {
    const rl = limiter({ rateLimit: { limit: 3, periodTime: 1, periodTimeUnit: 'MINUTES' } });
    now = T0 + 15_000;
    for (let i = 1; i <= 3; i += 1) {
      expect(await rl.admit(acme, 'connect')).toEqual({
        'X-Rate-Limit-Limit': '3', 'X-Rate-Limit-Remaining': String(3 - i), 'X-Rate-Limit-Reset': String(T0 + 60_000),
      });
    }
    const refused = await rejection(rl.admit(acme, 'publish'));
    expect(refused).toMatchObject({ status: 429, code: 'RATE_LIMIT_EXCEEDED' });
    expect(refused.headers).toEqual({
      'Retry-After': '45', 'X-Rate-Limit-Limit': '3', 'X-Rate-Limit-Remaining': '0', 'X-Rate-Limit-Reset': String(T0 + 60_000),
    });
    expect(readCounters('orders', 'gold', 'acme')).toEqual({ requests: 3, messages: 0, rejected: 1 });
    // Another subscription has its own budget; the next window starts from zero.
    await expect(rl.admit({ ...acme, subscription: 'other', rateKey: 'sub:other' }, 'connect')).resolves.toBeDefined();
    now = T0 + 60_000;
    await expect(rl.admit(acme, 'connect')).resolves.toMatchObject({ 'X-Rate-Limit-Remaining': '2' });
  });

  it('closes a WebSocket with 1008 when over the limit', async () => {
    const rl = limiter({ rateLimit: { limit: 1 } });
    await rl.admit(acme, 'connect');
    const error = await rl.admit(acme, 'publish').catch((e) => e);
    expect(error.closeCode).toBe(1008);
  });

  it('counts keyless callers per client address', async () => {
    const rl = limiter({ rateLimit: { limit: 1 } });
    const client = (address: string) => ({ planKey: 'open', planType: 'keyless', rateKey: `addr:${address}` }) as const;
    await rl.admit(client('10.0.0.1'), 'connect');
    await rl.admit(client('10.0.0.2'), 'connect');
    expect(await rejection(rl.admit(client('10.0.0.1'), 'connect'))).toMatchObject({ code: 'RATE_LIMIT_EXCEEDED' });
  });

  it('a subscription\'s own limit replaces the plan\'s', async () => {
    const rl = limiter({ rateLimit: { limit: 1 } }, { acme: { plan: 'gold', rateLimit: { limit: 5 } } });
    for (let i = 0; i < 5; i += 1) await rl.admit(acme, 'connect');
    expect(await rejection(rl.admit(acme, 'connect'))).toMatchObject({ code: 'RATE_LIMIT_EXCEEDED' });
    await rl.admit({ ...acme, subscription: 'other', rateKey: 'sub:other' }, 'connect');
    expect(await rejection(rl.admit({ ...acme, subscription: 'other', rateKey: 'sub:other' }, 'connect'))).toMatchObject({ code: 'RATE_LIMIT_EXCEEDED' });
  });

  it('applies a quota beside the rate limit (X-Quota-*), and a quota alone also fills X-Rate-Limit-*', async () => {
    const both = limiter({ rateLimit: { limit: 10, periodTimeUnit: 'SECONDS' }, quota: { limit: 2, periodTimeUnit: 'DAYS' } });
    expect(await both.admit(acme, 'connect')).toMatchObject({ 'X-Rate-Limit-Limit': '10', 'X-Quota-Limit': '2', 'X-Quota-Remaining': '1' });
    await both.admit(acme, 'connect');
    const refused = await rejection(both.admit(acme, 'connect'));
    expect(refused).toMatchObject({ status: 429, code: 'QUOTA_EXCEEDED' });
    expect(refused.headers['Retry-After']).toBe(String(12 * 3600));

    stats = new AdmissionStats();
    const quotaOnly = createRateLimiter({ apiId: 'orders', planKey: 'silver', plan: { quota: { limit: 1, periodTimeUnit: 'HOURS' } } }, { counters: () => counters, stats, now: () => now });
    expect(await quotaOnly.admit(acme, 'connect')).toMatchObject({ 'X-Rate-Limit-Limit': '1', 'X-Rate-Limit-Remaining': '0', 'X-Quota-Limit': '1' });
    const over = await rejection(quotaOnly.admit(acme, 'connect'));
    expect(over).toMatchObject({ code: 'QUOTA_EXCEEDED' });
    expect(over.headers).toMatchObject({ 'X-Rate-Limit-Limit': '1', 'X-Rate-Limit-Remaining': '0', 'Retry-After': '3600' });
  });

  it('without limits it only counts, for /status', async () => {
    const rl = limiter({});
    expect(await rl.admit(acme, 'connect')).toEqual({});
    expect(await rl.admit(acme, 'publish')).toEqual({});
    expect(readCounters('orders', 'gold', 'acme')).toEqual({ requests: 1, messages: 1, rejected: 0 });
  });

  it('applies the error strategy when the store cannot answer', async () => {
    const down: Counters = { kind: 'redis', increment: () => Promise.reject(new CountersUnavailable('down')), close: async () => {} };
    const allow = limiter({ rateLimit: { limit: 1 } }, {}, 'allow', () => down);
    for (let i = 0; i < 3; i += 1) expect(await allow.admit(acme, 'connect')).toEqual({});
    const deny = limiter({ rateLimit: { limit: 1 } }, {}, 'deny', () => down);
    const refused = await rejection(deny.admit(acme, 'connect'));
    expect(refused).toMatchObject({ status: 503, code: 'RATE_LIMIT_UNAVAILABLE' });
    expect(refused.headers['Retry-After']).toBe('1');
  });
});
