/**
 * The shared entrypoint contract suite: every entrypoint (http-get, websocket, sse, http-post)
 * runs it through a driver (./entrypoint-drivers.ts) that speaks its protocol with a real client
 * over a real socket, against a gateway whose APIs sit on a backend (./entrypoint-backend.ts): the
 * numbered mock, or a real broker. What it checks: subscribers get messages in order, resume
 * after a cursor (where the endpoint resumes), receive non-UTF-8 content byte-exact in their
 * documented encoding, and release their upstream subscription when the client leaves;
 * publishers hand over exactly the bytes sent and refuse while the endpoint is unavailable.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Entrypoint } from '../../schemas/types.ts';
import type { Gateway } from '../../runtime/gateway.ts';
import { gatewayWith } from '../support/harness.ts';
import { makeBundle } from '../support/bundles.ts';
import { contentOf, pollUntil, type ApiKind, type BackendRun, type EntrypointBackend } from './entrypoint-backend.ts';

export interface Received {
  /** The message id, where the protocol carries one. */
  readonly id?: string;
  readonly content: Buffer;
}

export interface SubscriberSession {
  readonly received: Received[];
  /** Resolves once `n` messages arrived (bounded). */
  until(n: number, ms?: number): Promise<void>;
  /** The client leaves. */
  close(): Promise<void>;
}

export interface EntrypointDriver {
  readonly name: string;
  readonly config: Entrypoint;
  /** Opens a subscriber on `base` (http://host:port/path/), resuming after `cursor` when given. */
  subscribe?(base: string, cursor?: string): Promise<SubscriberSession>;
  /** Publishes `content`; resolves accepted once the gateway took it, or not accepted with why. `recorded` says whether the endpoint has it. */
  publish?(base: string, content: Buffer, recorded: () => boolean): Promise<{ accepted: boolean; detail: string }>;
  /** Does the protocol carry message ids to clients? */
  readonly carriesIds: boolean;
}

export function entrypointContract(driver: EntrypointDriver, backend: EntrypointBackend): void {
  describe(`entrypoint contract: ${driver.name} over ${backend.name}`, () => {
    let gateway: Gateway;
    let run: BackendRun;
    const base = (api: ApiKind) => `${gateway.url}/${api}/`;

    beforeAll(async () => {
      run = await backend.start();
      const api = (kind: ApiKind) => ({ definition: { entrypoints: [driver.config] as never, endpoints: run.endpoints(kind) as never } });
      gateway = await gatewayWith(makeBundle({ text: api('text'), bin: api('bin'), down: api('down'), slow: api('slow') }), run.registry ? { registry: run.registry } : {});
    });
    afterAll(async () => {
      await gateway?.close();
      await run?.close();
    });

    const subscriber = driver.subscribe?.bind(driver);
    const publisher = driver.publish?.bind(driver);
    // Only what the entrypoint and the backend do is registered: no skipped tests for what they do not.
    const forSubscribers = (name: string, test: () => Promise<void>) => subscriber && it(name, test);
    const forResuming = (name: string, test: () => Promise<void>) => subscriber && backend.resumes && it(name, test);
    const forPublishers = (name: string, test: () => Promise<void>) => publisher && it(name, test);

    /** A subscriber to `kind` that received messages 0..count-1 (injected upstream where the backend needs it; at least the first 3). */
    async function receiving(kind: ApiKind, count: number, cursor?: string) {
      // An upstream still closing from an earlier test could swallow injected messages.
      if (run.inject) await pollUntil(async () => (await run.upstreams(kind)) === 0, 5_000, `no ${kind} subscription before the test`);
      const session = await subscriber!(base(kind), cursor);
      try {
        await run.inject?.(kind, count);
        await session.until(Math.min(count, 3));
      } catch (error) {
        await session.close();
        throw error;
      }
      return session;
    }

    forSubscribers('delivers messages in order', async () => {
      const session = await receiving('text', 3);
      try {
        expect(session.received.slice(0, 3).map((m) => m.content.toString())).toEqual(['m0', 'm1', 'm2']);
        if (driver.carriesIds) {
          const ids = session.received.slice(0, 3).map((m) => m.id);
          if (backend.numberedIds) expect(ids).toEqual(['0', '1', '2']);
          for (const id of ids) expect(id).toMatch(/\S/);
          expect(new Set(ids).size).toBe(3);
        }
      } finally {
        await session.close();
      }
    });

    forResuming('resumes strictly after a cursor', async () => {
      // A backend with stored messages gets 8 first (seen by a subscriber that then leaves): 3 after the cursor, so an http-get long poll answers at once.
      if (run.inject) await (await receiving('text', 8)).close();
      if (!run.cursorOf) throw new Error(`${backend.name} resumes but gives no cursorOf`);
      const session = await subscriber!(base('text'), run.cursorOf('text', 4));
      try {
        await session.until(2);
        expect(session.received.slice(0, 2).map((m) => m.content.toString())).toEqual(['m5', 'm6']);
      } finally {
        await session.close();
      }
    });

    forSubscribers('delivers non-UTF-8 content byte-exact in its documented encoding', async () => {
      // 3: an http-get long poll answers at its messagesLimitCount (3), not at its time limit.
      const session = await receiving('bin', 3);
      try {
        expect(session.received[0]!.content.equals(contentOf('bin', 0))).toBe(true);
        expect(session.received[1]!.content.equals(contentOf('bin', 1))).toBe(true);
      } finally {
        await session.close();
      }
    });

    forSubscribers('a client leaving releases its upstream subscription', async () => {
      const upstreams = (n: number) => async () => (await run.upstreams('slow')) === n;
      await pollUntil(upstreams(0), 5_000, 'no subscription before the test');
      // An API without messages: only the client leaving can end this subscription (well before any poll timeout).
      const session = await subscriber!(base('slow'));
      await pollUntil(upstreams(1), 5_000, 'the subscription to open');
      await session.close();
      await pollUntil(upstreams(0), 2_000, 'the subscription to be released');
    });

    forPublishers('hands over exactly the bytes published, text and binary', async () => {
      const watch = await run.watchPublished('text');
      try {
        for (const content of [Buffer.from('{"amount": 12}'), Buffer.from([0x00, 0xff, 0xc3, 0x28])]) {
          const before = watch.received().length;
          const result = await publisher!(base('text'), content, () => watch.received().length > before);
          expect(result.accepted, result.detail).toBe(true);
          await pollUntil(async () => watch.received().length > before, 5_000, 'the published message upstream');
          expect(watch.received()[before]!.equals(content)).toBe(true);
        }
      } finally {
        await watch.close();
      }
    });

    forPublishers('refuses while the endpoint is unavailable', async () => {
      const result = await publisher!(base('down'), Buffer.from('x'), () => false);
      expect(result.accepted).toBe(false);
      expect(result.detail).toMatch(/unavailable/i);
    });
  });
}
