/**
 * Authentication-failure throttle: counts failed authentications (401/403 from plan resolution) per
 * API and client address — a full IPv4 address, an IPv6 /64 — in fixed windows. Once an address has
 * failed `failures` times in a window on an API, every request from it presenting a credential to
 * that API is refused with 429 AUTH_THROTTLED and Retry-After until that window ends, before the
 * credential is checked (keyless requests are never throttled: plans/resolution.ts). Successful
 * authentications do not count. In memory, one per gateway (its GatewayState; kept across deploys),
 * bounded to MAX_ADDRESSES entries (expired ones go first, then the oldest). Off unless the gateway
 * is given a limit (`sluice serve`/`sluice dev` pass --auth-failure-limit, default 20/10).
 */
import { isIPv4, isIPv6 } from 'node:net';
import { GatewayError } from '../../core/errors.ts';

export interface AuthFailureLimit {
  readonly failures: number;
  readonly windowSeconds: number;
}

/** The serve default: 20 failures per 10 s per address. */
export const DEFAULT_AUTH_FAILURE_LIMIT: AuthFailureLimit = { failures: 20, windowSeconds: 10 };
/** Most addresses tracked at once. */
export const MAX_ADDRESSES = 50_000;

interface Window {
  count: number;
  endsAt: number;
}

/** `--auth-failure-limit N/SECONDS` or `0` (off); absent: the default. */
export function parseAuthFailureLimit(value: string | undefined): AuthFailureLimit | null {
  if (value === undefined) return DEFAULT_AUTH_FAILURE_LIMIT;
  if (value === '0') return null;
  const match = /^(\d{1,6})\/(\d{1,5})$/.exec(value);
  if (!match || Number(match[1]) < 1 || Number(match[2]) < 1) {
    throw new Error(`--auth-failure-limit must be N/SECONDS (e.g. 20/10) or 0 to turn it off (got "${value}")`);
  }
  return { failures: Number(match[1]), windowSeconds: Number(match[2]) };
}

export class AuthThrottle {
  readonly #limit: AuthFailureLimit | null;
  readonly #windows = new Map<string, Window>();

  /** null: off (nothing is counted or refused). */
  constructor(limit: AuthFailureLimit | null = null) {
    this.#limit = limit;
  }

  get limit(): AuthFailureLimit | null {
    return this.#limit;
  }

  /** Throws 429 AUTH_THROTTLED when `remoteAddress` has used up its failures on API `apiId` in the current window. */
  check(apiId: string, remoteAddress: string, now = Date.now()): void {
    const limit = this.#limit;
    if (!limit) return;
    const window = this.#windows.get(throttleKey(apiId, remoteAddress));
    if (!window || window.endsAt <= now || window.count < limit.failures) return;
    const seconds = Math.max(1, Math.ceil((window.endsAt - now) / 1000));
    throw new GatewayError('AUTH_THROTTLED', 429, `Too many failed authentication attempts from this address. Retry in ${seconds} s.`, 1008, {
      'Retry-After': String(seconds),
    });
  }

  /** Counts one failed authentication of `remoteAddress` on API `apiId`. */
  record(apiId: string, remoteAddress: string, now = Date.now()): void {
    const limit = this.#limit;
    if (!limit) return;
    const key = throttleKey(apiId, remoteAddress);
    const current = this.#windows.get(key);
    if (current && current.endsAt > now) {
      current.count += 1;
      return;
    }
    this.#windows.delete(key);
    if (this.#windows.size >= MAX_ADDRESSES) this.#evict(now);
    this.#windows.set(key, { count: 1, endsAt: now + limit.windowSeconds * 1000 });
  }

  /** Drops expired windows; if none had expired, the oldest one (insertion order). */
  #evict(now: number): void {
    const windows = this.#windows;
    for (const [key, window] of windows) if (window.endsAt <= now) windows.delete(key);
    if (windows.size >= MAX_ADDRESSES) windows.delete(windows.keys().next().value!);
  }
}

/** API ids are folder names (no control characters): NUL cannot be part of one. */
const throttleKey = (apiId: string, address: string): string => `${apiId}\0${clientKey(address)}`;

/** A full IPv4 address (also IPv4-mapped IPv6), an IPv6 address's /64 prefix, anything else as is. */
export function clientKey(address: string): string {
  const bare = address.replace(/%.*$/, '').toLowerCase();
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(bare);
  if (mapped) return mapped[1]!;
  if (isIPv4(bare) || !isIPv6(bare)) return bare;
  const [head = '', tail] = bare.split('::');
  const groups = (part: string): string[] => (part === '' ? [] : part.split(':').flatMap((g) => (g.includes('.') ? ['0', '0'] : [g])));
  const left = groups(head);
  const right = tail === undefined ? [] : groups(tail);
  const all = [...left, ...Array<string>(Math.max(0, 8 - left.length - right.length)).fill('0'), ...right];
  return `${all.slice(0, 4).map((g) => parseInt(g, 16).toString(16)).join(':')}::/64`;
}
