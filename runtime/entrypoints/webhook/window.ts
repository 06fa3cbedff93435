/**
 * A push subscription's delivery window [startingAt, endingAt) (epoch ms; ±Infinity when
 * unbounded, see runtime/plans/subscription-window.ts). `waitUntil` waits for an instant of any
 * distance: a node timer waits at most 2^31-1 ms (~24.8 days; a longer one fires at once), so a
 * later instant is waited in steps.
 */
import { setTimeout as sleep } from 'node:timers/promises';

/** The longest delay a node timer takes. */
export const MAX_TIMER_MS = 2 ** 31 - 1;

/** Resolves true at `at` (at once when past), false as soon as `signal` aborts. Never rejects. */
export async function waitUntil(at: number, signal: AbortSignal): Promise<boolean> {
  while (!signal.aborted) {
    const ms = at - Date.now();
    if (ms <= 0) return true;
    try {
      await sleep(Math.min(ms, MAX_TIMER_MS), undefined, { signal });
    } catch {
      return false;
    }
  }
  return false;
}

/** Why a subscription outside its window delivers nothing (for /status), or undefined inside it. */
export function outsideWindow(window: { readonly startingAt: number; readonly endingAt: number }, now: number): string | undefined {
  if (now >= window.endingAt) return `the subscription ended at ${new Date(window.endingAt).toISOString()} (endingAt)`;
  if (now < window.startingAt) return `the subscription starts at ${new Date(window.startingAt).toISOString()} (startingAt)`;
  return undefined;
}
