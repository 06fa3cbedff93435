/**
 * The shared consumer of a channel, one after the other (runtime/endpoints/kafka/shared-turns.ts):
 * a new one joins once the previous one left its group, stops waiting when its own signal aborts
 * (without letting a later one overtake the consumer still leaving), and joins anyway after
 * RELEASE_WAIT_MS when the previous one is stuck leaving. With the broker: test/observability/kafka-metrics.test.ts.
 */
import { afterEach, expect, it, vi } from 'vitest';
import { log } from '../../runtime/log.ts';
import { RELEASE_WAIT_MS, SharedTurns } from '../../runtime/endpoints/kafka/shared-turns.ts';

const never = new AbortController().signal;

/** `ready` and whether it has settled yet. */
function watch(promise: Promise<boolean>): { settled: () => boolean; value: Promise<boolean> } {
  let done = false;
  void promise.then(() => (done = true));
  return { settled: () => done, value: promise };
}
const turnOfEventLoop = () => new Promise((resolve) => setImmediate(resolve));

afterEach(() => {
  vi.useRealTimers();
  vi.restoreAllMocks();
});

it('joins at once on an idle channel, and after the previous consumer left on a busy one', async () => {
  const turns = new SharedTurns(log);
  const first = turns.take('');
  expect(await first.ready(never)).toBe(true);
  const second = watch(turns.take('').ready(never));
  const other = turns.take('telemetry.b'); // another channel does not wait
  expect(await other.ready(never)).toBe(true);
  await turnOfEventLoop();
  expect(second.settled()).toBe(false);
  first.release();
  expect(await second.value).toBe(true);
});

it('stops waiting when its signal aborts; the next one still waits for the consumer leaving', async () => {
  const turns = new SharedTurns(log);
  const first = turns.take('');
  const abort = new AbortController();
  const second = turns.take('');
  const waiting = second.ready(abort.signal);
  abort.abort();
  expect(await waiting).toBe(false);
  second.release();
  const third = watch(turns.take('').ready(never));
  await turnOfEventLoop();
  expect(third.settled()).toBe(false);
  first.release();
  expect(await third.value).toBe(true);
});

it('joins anyway, with a warning, when the previous consumer is stuck leaving; stop() waits as long at most', async () => {
  vi.useFakeTimers();
  const warn = vi.spyOn(log, 'warn').mockImplementation(() => undefined);
  const turns = new SharedTurns(log);
  turns.take(''); // never released
  const second = watch(turns.take('').ready(never));
  await vi.advanceTimersByTimeAsync(RELEASE_WAIT_MS - 1);
  expect(second.settled()).toBe(false);
  await vi.advanceTimersByTimeAsync(1);
  expect(await second.value).toBe(true);
  expect(warn).toHaveBeenCalledOnce();
  const stopped = watch(turns.released().then(() => true));
  await vi.advanceTimersByTimeAsync(RELEASE_WAIT_MS);
  expect(stopped.settled()).toBe(true);
});
