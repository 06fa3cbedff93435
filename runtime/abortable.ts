/**
 * What ends a client's subscription: an AbortSignal, or a Connection (connections.ts), which is one
 * without an AbortController per client. Node's AbortSignal gives each instance its own hidden
 * class and two maps: about 0.75 KB of heap per idle subscriber, more than a third of what Sluice
 * itself holds for an SSE stream. A listener is a function or an object with `handleEvent` (as for
 * an EventTarget), so a queue can listen without a closure of its own.
 *
 * Connection's listeners differ from an EventTarget's where no caller relies on it: the same
 * listener added twice runs twice, every listener runs once (`once` is implied: an abort happens
 * once), one removed while the abort is being dispatched still runs, and an AbortSignal made by
 * `Connection.signal` has its listeners run first.
 */
export type AbortListener = (() => void) | { handleEvent(): void };

export interface Abortable {
  readonly aborted: boolean;
  readonly reason: unknown;
  /** Called once, when it aborts; never when added after (as an AbortSignal's `abort` listener). */
  addEventListener(type: 'abort', listener: AbortListener, options?: { readonly once?: boolean }): void;
  removeEventListener(type: 'abort', listener: AbortListener): void;
}
