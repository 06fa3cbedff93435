/**
 * Delivering one message to a callback: attempts with the subscription's backoff.
 *
 * Outcomes of one attempt:
 * - 2xx: delivered;
 * - 3xx (redirects are not followed) and 4xx except 408 and 429: refused, no retry;
 * - 5xx, 408, 429, time-outs and connection errors: retried after the backoff delay, until
 *   `maxAttempts` attempts were made (strategy `none`: one attempt), then exhausted.
 * Delay before attempt n+1 (n attempts failed): linear `initialDelayMs * n`, exponential
 * `initialDelayMs * 2^(n-1)`, at least the callback's Retry-After; at most `maxDelayMs`.
 *
 * `yielding` aborting gives the message back (not delivered, not refused): the attempt in flight
 * finishes first, no further attempt starts, a backoff wait ends at once. `abort` cuts the attempt
 * in flight too.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { WebhookSubscription } from '../../../schemas/types.ts';
import type { CallbackResult } from './callback.ts';
import { MAX_TIMER_MS } from './window.ts';

export interface RetryPolicy {
  readonly strategy: 'none' | 'linear' | 'exponential';
  readonly maxAttempts: number;
  readonly initialDelayMs: number;
  readonly maxDelayMs: number;
}

export function retryPolicy(retry: WebhookSubscription['retry']): RetryPolicy {
  const strategy = retry?.strategy ?? 'exponential';
  return {
    strategy,
    maxAttempts: strategy === 'none' ? 1 : (retry?.maxAttempts ?? 10),
    initialDelayMs: retry?.initialDelayMs ?? 1_000,
    // A node timer waits at most 2^31-1 ms (a longer delay fires at once).
    maxDelayMs: Math.min(retry?.maxDelayMs ?? 30_000, MAX_TIMER_MS),
  };
}

/** Delay before the next attempt once `failed` attempts failed (failed >= 1). */
export function backoffDelay(policy: RetryPolicy, failed: number, retryAfterMs = 0): number {
  const base = policy.strategy === 'linear'
    ? policy.initialDelayMs * failed
    : policy.strategy === 'exponential'
      ? policy.initialDelayMs * 2 ** Math.min(30, failed - 1)
      : 0;
  return Math.min(policy.maxDelayMs, Math.max(base, retryAfterMs));
}

/** Why an attempt did not deliver: the HTTP status when there was one, else the transport error. */
export interface AttemptFailure {
  readonly status?: number;
  readonly error: string;
}

export type DeliveryOutcome =
  | { readonly kind: 'delivered'; readonly status: number; readonly attempts: number }
  | { readonly kind: 'refused' | 'exhausted'; readonly failure: AttemptFailure; readonly attempts: number }
  | { readonly kind: 'given-back'; readonly attempts: number };

export interface AttemptControl {
  readonly yielding: AbortSignal;
  readonly abort: AbortSignal;
  /** An attempt failed and another follows after `delayMs`. */
  onRetry(failure: AttemptFailure, attempt: number, delayMs: number): void;
}

export function classify(result: CallbackResult): 'delivered' | 'refused' | 'retry' | 'aborted' {
  if (result.status === undefined) return result.code === 'ABORTED' ? 'aborted' : 'retry';
  if (result.status >= 200 && result.status < 300) return 'delivered';
  if (result.status === 408 || result.status === 429 || result.status >= 500) return 'retry';
  return 'refused';
}

export function describeFailure(result: CallbackResult): AttemptFailure {
  if (result.status === undefined) return { error: `${result.code}: ${result.error}` };
  return { status: result.status, error: `callback answered HTTP ${result.status}${result.status >= 300 && result.status < 400 ? ' (redirects are not followed)' : ''}` };
}

export async function deliverWithRetries(
  attempt: (signal: AbortSignal) => Promise<CallbackResult>,
  policy: RetryPolicy,
  control: AttemptControl,
): Promise<DeliveryOutcome> {
  for (let n = 1; ; n++) {
    if (n > 1 && control.yielding.aborted) return { kind: 'given-back', attempts: n - 1 };
    const result = await attempt(control.abort);
    const verdict = classify(result);
    if (verdict === 'delivered') return { kind: 'delivered', status: result.status!, attempts: n };
    if (verdict === 'aborted') return { kind: 'given-back', attempts: n };
    const failure = describeFailure(result);
    if (verdict === 'refused') return { kind: 'refused', failure, attempts: n };
    if (n >= policy.maxAttempts) return { kind: 'exhausted', failure, attempts: n };
    if (control.yielding.aborted) return { kind: 'given-back', attempts: n };
    const delay = backoffDelay(policy, n, result.status !== undefined ? result.retryAfterMs : undefined);
    control.onRetry(failure, n, delay);
    try {
      await sleep(delay, undefined, { signal: control.yielding });
    } catch {
      return { kind: 'given-back', attempts: n };
    }
  }
}
