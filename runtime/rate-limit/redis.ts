/**
 * Counters shared by every runtime instance through Redis (`--redis URL`). One atomic Lua script per
 * call: INCR, and PEXPIREAT at the window's end when the key is new. Redis being slow or down never
 * hangs a request: commands time out after `commandTimeoutMs`, nothing is queued while disconnected,
 * and the client reconnects on its own. An outage is logged once when it starts and once when it ends.
 */
import { Redis } from 'ioredis';
import type { Counters } from './counters.ts';
import { CountersUnavailable } from './counters.ts';

const INCREMENT = `
local count = redis.call('INCR', KEYS[1])
if count == 1 or redis.call('PTTL', KEYS[1]) == -1 then
  redis.call('PEXPIREAT', KEYS[1], ARGV[1])
end
return count
`;

/** Extra life of a counter after its window, for clocks of instances that are slightly apart. */
const EXPIRY_GRACE_MS = 5_000;

export interface OutageLog {
  warn(fields: object, message: string): void;
  info(fields: object, message: string): void;
}

export interface RedisCountersOptions {
  readonly url: string;
  /** Prefix of every key (default `sluice:rl:`): lets several deployments or test runs share one Redis. */
  readonly keyPrefix?: string;
  readonly commandTimeoutMs?: number;
  readonly connectTimeoutMs?: number;
  /** Only for the outage log line: what happens to calls while Redis is away. */
  readonly errorStrategy?: 'allow' | 'deny';
  readonly log: OutageLog;
}

export interface RedisCounters extends Counters {
  /** Resolves once connected, or after `timeoutMs` (never rejects: requests are served either way). */
  ready(timeoutMs?: number): Promise<boolean>;
  readonly healthy: boolean;
}

/** The URL without user name or password, for logs. */
export function redactRedisUrl(url: string): string {
  try {
    const parsed = new URL(url);
    parsed.username = '';
    parsed.password = '';
    return parsed.toString();
  } catch {
    return 'an invalid Redis URL';
  }
}

export function createRedisCounters(options: RedisCountersOptions): RedisCounters {
  const where = redactRedisUrl(options.url);
  const strategy = options.errorStrategy ?? 'allow';
  const redis = new Redis(options.url, {
    keyPrefix: options.keyPrefix ?? 'sluice:rl:',
    // A backstop only: `increment` gives up after commandTimeoutMs itself (see withTimeout).
    commandTimeout: 2_000,
    connectTimeout: options.connectTimeoutMs ?? 1_000,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    autoResendUnfulfilledCommands: false,
    // Keep trying for ever, at most every second: limits apply again soon after Redis returns.
    retryStrategy: (times) => Math.min(times * 100, 1_000),
  });
  redis.defineCommand('sluiceIncrement', { numberOfKeys: 1, lua: INCREMENT });
  const increment = (redis as unknown as { sluiceIncrement(key: string, expireAt: number): Promise<number> }).sluiceIncrement.bind(redis);

  const timeoutMs = options.commandTimeoutMs ?? 150;
  let healthy = true;
  let closed = false;
  const down = (detail: string): void => {
    if (!healthy || closed) return;
    healthy = false;
    options.log.warn({ redis: where, strategy }, `rate limits: Redis unreachable (${detail}); ${strategy === 'allow' ? 'allowing' : 'denying'} calls until it returns`);
  };
  const up = (): void => {
    if (healthy || closed) return;
    healthy = true;
    options.log.info({ redis: where }, 'rate limits: Redis reachable again; limits apply');
  };
  redis.on('error', (error: Error) => down(error.message));
  redis.on('close', () => down('connection closed'));
  redis.on('ready', up);

  return {
    kind: 'redis',
    get healthy() {
      return healthy && redis.status === 'ready';
    },
    async increment(key, resetAt) {
      try {
        const count = Number(await withTimeout(increment(key, resetAt + EXPIRY_GRACE_MS), timeoutMs));
        up();
        return count;
      } catch (error) {
        const detail = (error as Error).message;
        down(detail);
        throw new CountersUnavailable(detail);
      }
    },
    ready(timeoutMs = 1_000) {
      if (redis.status === 'ready') return Promise.resolve(true);
      return new Promise((resolve) => {
        const done = (value: boolean): void => {
          clearTimeout(timer);
          redis.off('ready', onReady);
          resolve(value);
        };
        const onReady = (): void => done(true);
        const timer = setTimeout(() => done(false), timeoutMs);
        redis.once('ready', onReady);
      });
    },
    async close() {
      closed = true;
      redis.disconnect();
    },
  };
}

/**
 * Rejects after `ms` unless `promise` settled. The deadline is checked with setImmediate after the
 * timer fires, i.e. after the event loop has read the sockets: when this process itself was busy
 * (a stalled loop), a reply already waiting in the socket still counts instead of a false time-out.
 */
function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    let settled = false;
    const timer = setTimeout(() => setImmediate(() => {
      if (settled) return;
      settled = true;
      reject(new Error(`no answer within ${ms} ms`));
    }), ms);
    promise.then(
      (value) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        resolve(value);
      },
      (error: unknown) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        reject(error);
      },
    );
  });
}
