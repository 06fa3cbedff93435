/**
 * What the entrypoint contract suite (./entrypoint-suite.ts) runs its drivers over: a backend
 * gives the endpoint config of each test API (entrypoint-independent) and the test-side view of
 * the upstream: injecting messages through the broker's own client, reading what the gateway
 * published, and whether an API's upstream subscription is open (the broker's own view).
 * The numbered mock (./numbered-mock.ts `mockBackend`) and real brokers (./*-backend.ts) implement it.
 */
import type { Registry } from '../../runtime/registry.ts';

/**
 * The suite's APIs: `text` and `bin` deliver messages (`text` also takes publishes), `slow`
 * delivers none unless injected, `down` is an endpoint that cannot reach its upstream.
 */
export type ApiKind = 'text' | 'bin' | 'slow' | 'down';

/** The bytes of message `index` of an API: `m<index>`, or for `bin` the non-UTF-8 bytes ff fe 00 <index>. */
export const contentOf = (kind: ApiKind, index: number): Buffer =>
  kind === 'bin' ? Buffer.from([0xff, 0xfe, 0x00, index & 0xff]) : Buffer.from(`m${index}`);

/** Polls an asynchronous condition every 20 ms until true, or fails after `ms` with `what` (../support/harness.ts `waitFor`, for broker-side answers). */
export async function pollUntil(condition: () => Promise<boolean>, ms: number, what: string): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

export interface PublishedWatch {
  /** Contents the endpoint put on the upstream since the watch began (for the mock: ever), in order. */
  received(): readonly Buffer[];
  close(): Promise<void>;
}

export interface BackendRun {
  /** The gateway Registry (default: the built-in one). */
  readonly registry?: Registry;
  /** The `endpoints` of the API of this kind, unique to this run. */
  endpoints(kind: ApiKind): readonly unknown[];
  /**
   * Publishes message 0..count-1 of `kind` (`contentOf`) upstream through the broker's own client,
   * so that a subscriber opened before the call receives them all, in order (waits for its
   * subscription where the broker only delivers to present subscribers). Absent where the
   * endpoint produces these messages itself (the numbered mock).
   */
  inject?(kind: ApiKind, count: number): Promise<void>;
  /** Open upstream subscriptions of `kind`'s API, as the broker (or the mock) reports them. */
  upstreams(kind: ApiKind): Promise<number>;
  /** The cursor naming message `index` of `kind` (for a backend with `inject`: of its last injection). */
  cursorOf?(kind: ApiKind, index: number): string;
  /** Starts reading what `kind`'s endpoint publishes upstream. */
  watchPublished(kind: ApiKind): Promise<PublishedWatch>;
  close(): Promise<void>;
}

export interface EntrypointBackend {
  readonly name: string;
  /** Message ids are the message indexes (`'0'`, `'1'`...); otherwise they are only checked to be distinct. */
  readonly numberedIds?: boolean;
  /** Does the endpoint resume after a cursor? Only then are the resume tests registered (and `cursorOf` required). */
  readonly resumes: boolean;
  /** Prepares the upstream (unique names) for one gateway's run. */
  start(): Promise<BackendRun>;
}
