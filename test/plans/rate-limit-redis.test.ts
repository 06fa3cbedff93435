import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRateLimiter } from '../../runtime/rate-limit/limiter.ts';
import { createRedisCounters, redactRedisUrl, type RedisCounters } from '../../runtime/rate-limit/redis.ts';
import { rejection } from './fixtures.ts';
import { startPrivateRedis, type PrivateRedis } from './redis-server.ts';

const caller = { planKey: 'gold', planType: 'api-key', subscription: 'acme', rateKey: 'sub:acme' } as const;
const SHARED_REDIS = process.env.SLUICE_TEST_REDIS ?? 'redis://127.0.0.1:6379/0';

function recordingLog() {
  const lines: { level: string; message: string; fields: object }[] = [];
  return {
    lines,
    warn: (fields: object, message: string) => void lines.push({ level: 'warn', message, fields }),
    info: (fields: object, message: string) => void lines.push({ level: 'info', message, fields }),
  };
}

async function eventually(check: () => Promise<boolean>, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
}

describe('Redis counters', () => {
  it('two clients share one limit atomically (10/min: the 11th call across both is 429)', async () => {
    const keyPrefix = `sluice-test:${randomUUID()}:`;
    const log = recordingLog();
    const a = createRedisCounters({ url: SHARED_REDIS, keyPrefix, log });
    const b = createRedisCounters({ url: SHARED_REDIS, keyPrefix, log });
    try {
      expect(await a.ready(5_000)).toBe(true);
      expect(await b.ready(5_000)).toBe(true);
      const plan = { rateLimit: { limit: 10, periodTime: 1, periodTimeUnit: 'MINUTES' as const } };
      const limiters = [a, b].map((counters) => createRateLimiter({ apiId: 'orders', planKey: 'gold', plan }, { counters: () => counters }));
      // Concurrent calls from both instances: exactly 10 admitted.
      const results = await Promise.allSettled(Array.from({ length: 10 }, (_, i) => limiters[i % 2]!.admit(caller, 'connect')));
      expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(10);
      expect(await rejection(limiters[0]!.admit(caller, 'connect'))).toMatchObject({ status: 429, code: 'RATE_LIMIT_EXCEEDED' });
      expect(await rejection(limiters[1]!.admit(caller, 'publish'))).toMatchObject({ status: 429, code: 'RATE_LIMIT_EXCEEDED' });
      expect(log.lines).toEqual([]);
    } finally {
      await a.close();
      await b.close();
    }
  });

  it('never logs the Redis password', () => {
    expect(redactRedisUrl('redis://user:hunter2@redis.internal:6380/3')).toBe('redis://redis.internal:6380/3');
  });
});

describe('Redis outage', () => {
  let redis: PrivateRedis;
  let counters: RedisCounters;
  const log = recordingLog();
  beforeAll(async () => {
    redis = await startPrivateRedis();
    counters = createRedisCounters({ url: redis.url, log, errorStrategy: 'allow' });
    expect(await counters.ready(5_000)).toBe(true);
  });
  afterAll(async () => {
    await counters?.close();
    await redis?.stop();
  });

  it('keeps serving while Redis is down (allow, logged once), denies under deny, and limits again when it returns', async () => {
    const plan = { rateLimit: { limit: 2, periodTime: 1, periodTimeUnit: 'HOURS' as const } };
    let strategy: 'allow' | 'deny' = 'allow';
    const limiter = createRateLimiter({ apiId: 'orders', planKey: 'gold', plan }, { counters: () => counters, errorStrategy: () => strategy });
    const other = (name: string) => ({ ...caller, subscription: name, rateKey: `sub:${name}` });

    await limiter.admit(caller, 'connect');
    await limiter.admit(caller, 'connect');
    expect(await rejection(limiter.admit(caller, 'connect'))).toMatchObject({ code: 'RATE_LIMIT_EXCEEDED' });

    await redis.stop();
    const started = Date.now();
    for (let i = 0; i < 20; i += 1) expect(await limiter.admit(other('outage'), 'connect')).toEqual({});
    expect(Date.now() - started).toBeLessThan(5_000);
    strategy = 'deny';
    expect(await rejection(limiter.admit(other('outage'), 'connect'))).toMatchObject({ status: 503, code: 'RATE_LIMIT_UNAVAILABLE' });
    strategy = 'allow';
    const warnings = log.lines.filter((line) => line.level === 'warn');
    expect(warnings).toHaveLength(1);
    expect(warnings[0]!.message).toMatch(/Redis unreachable.*allowing/);

    await redis.start();
    await eventually(async () => counters.healthy, 'the client to reconnect');
    expect(log.lines.filter((line) => line.level === 'info').map((line) => line.message)).toEqual(['rate limits: Redis reachable again; limits apply']);
    await limiter.admit(other('after'), 'connect');
    await limiter.admit(other('after'), 'connect');
    expect(await rejection(limiter.admit(other('after'), 'connect'))).toMatchObject({ code: 'RATE_LIMIT_EXCEEDED' });
  });

  it('a busy event loop is not mistaken for a slow Redis', async () => {
    const limiter = createRateLimiter({ apiId: 'orders', planKey: 'gold', plan: { rateLimit: { limit: 100 } } }, { counters: () => counters, errorStrategy: () => 'allow' });
    const warnings = log.lines.filter((line) => line.level === 'warn').length;
    const pending = limiter.admit({ ...caller, rateKey: 'sub:busy' }, 'connect');
    const until = Date.now() + 400;
    while (Date.now() < until) {
      // this process is busy for longer than the command time-out; Redis answered long ago
    }
    expect(await pending).toMatchObject({ 'X-Rate-Limit-Limit': '100', 'X-Rate-Limit-Remaining': '99' });
    expect(log.lines.filter((line) => line.level === 'warn')).toHaveLength(warnings);
  });

  it('a Redis that hangs does not hang calls: commands time out', async () => {
    const limiter = createRateLimiter({ apiId: 'orders', planKey: 'gold', plan: { rateLimit: { limit: 100 } } }, { counters: () => counters, errorStrategy: () => 'allow' });
    const recoveries = log.lines.filter((line) => line.level === 'info').length;
    redis.freeze();
    try {
      const started = Date.now();
      expect(await limiter.admit({ ...caller, rateKey: 'sub:frozen' }, 'connect')).toEqual({});
      expect(Date.now() - started).toBeLessThan(1_000);
    } finally {
      redis.thaw();
    }
    await eventually(async () => (await limiter.admit({ ...caller, rateKey: 'sub:thawed' }, 'connect'))?.['X-Rate-Limit-Limit'] === '100', 'limits to apply after the thaw');
    // A time-out while connected is an outage too, and its end is logged once.
    expect(log.lines.filter((line) => line.level === 'info')).toHaveLength(recoveries + 1);
  });
});
