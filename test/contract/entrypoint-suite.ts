/**
 * The shared entrypoint contract suite: every entrypoint (http-get, websocket, sse, http-post)
 * runs it through a driver that speaks its protocol with a real client over a real socket,
 * against a gateway serving the numbered mock (./numbered-mock.ts). What it checks:
 * subscribers get messages in order, resume after a cursor, receive non-UTF-8 content byte-exact
 * in their documented encoding, and release their upstream subscription when the client leaves;
 * publishers hand over exactly the bytes sent and refuse while the endpoint is unavailable.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Entrypoint } from '../../schemas/types.ts';
import type { Gateway } from '../../runtime/gateway.ts';
import { gatewayWith, waitFor } from '../support/harness.ts';
import { makeBundle } from '../support/bundles.ts';
import { binaryContent, built, numberedMockRegistry, subscriptions } from './numbered-mock.ts';

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

export function entrypointContract(driver: EntrypointDriver): void {
  describe(`entrypoint contract: ${driver.name}`, () => {
    let gateway: Gateway;
    const base = (api: string) => `${gateway.url}/${api}/`;
    const mock = (messageContent: string) => [{ type: 'mock', messageInterval: 20, messageContent }] as never;
    const entrypoints = [driver.config] as never;

    beforeAll(async () => {
      gateway = await gatewayWith(makeBundle({
        text: { definition: { entrypoints, endpoints: mock('text') } },
        bin: { definition: { entrypoints, endpoints: mock('binary') } },
        down: { definition: { entrypoints, endpoints: mock('unhealthy') } },
        slow: { definition: { entrypoints, endpoints: [{ type: 'mock', messageInterval: 60_000, messageContent: 'slow' }] as never } },
      }), { registry: numberedMockRegistry() });
    });
    afterAll(async () => {
      await gateway?.close();
    });

    const subscriber = driver.subscribe?.bind(driver);
    const publisher = driver.publish?.bind(driver);
    // Only what the entrypoint does is registered: no skipped tests for what it does not.
    const forSubscribers = (name: string, test: () => Promise<void>) => subscriber && it(name, test);
    const forPublishers = (name: string, test: () => Promise<void>) => publisher && it(name, test);

    forSubscribers('delivers messages in order', async () => {
      const session = await subscriber!(base('text'));
      try {
        await session.until(3);
        expect(session.received.slice(0, 3).map((m) => m.content.toString())).toEqual(['m0', 'm1', 'm2']);
        if (driver.carriesIds) expect(session.received.slice(0, 3).map((m) => m.id)).toEqual(['0', '1', '2']);
      } finally {
        await session.close();
      }
    });

    forSubscribers('resumes strictly after a cursor', async () => {
      const session = await subscriber!(base('text'), '4');
      try {
        await session.until(2);
        expect(session.received.slice(0, 2).map((m) => m.content.toString())).toEqual(['m5', 'm6']);
      } finally {
        await session.close();
      }
    });

    forSubscribers('delivers non-UTF-8 content byte-exact in its documented encoding', async () => {
      const session = await subscriber!(base('bin'));
      try {
        await session.until(2);
        expect(session.received[0]!.content.equals(binaryContent('0'))).toBe(true);
        expect(session.received[1]!.content.equals(binaryContent('1'))).toBe(true);
      } finally {
        await session.close();
      }
    });

    forSubscribers('a client leaving releases its upstream subscription', async () => {
      await waitFor(() => subscriptions.active === 0, 5_000, 'no subscription before the test');
      // An API without messages: only the client leaving can end this subscription (well before any poll timeout).
      const session = await subscriber!(base('slow'));
      await waitFor(() => subscriptions.active === 1, 5_000, 'the subscription to open');
      await session.close();
      await waitFor(() => subscriptions.active === 0, 2_000, 'the subscription to be released');
    });

    forPublishers('hands over exactly the bytes published, text and binary', async () => {
      const endpoint = () => [...built].reverse().find((b) => b.kind === 'text')!.endpoint;
      for (const content of [Buffer.from('{"amount": 12}'), Buffer.from([0x00, 0xff, 0xc3, 0x28])]) {
        const before = endpoint().recorded().length;
        const result = await publisher!(base('text'), content, () => endpoint().recorded().length > before);
        expect(result.accepted, result.detail).toBe(true);
        expect(endpoint().recorded()[before]!.content.equals(content)).toBe(true);
      }
    });

    forPublishers('refuses while the endpoint is unavailable', async () => {
      const result = await publisher!(base('down'), Buffer.from('x'), () => false);
      expect(result.accepted).toBe(false);
      expect(result.detail).toMatch(/unavailable/i);
    });
  });
}
