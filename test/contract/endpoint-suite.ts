/**
 * The shared endpoint contract suite: every endpoint (mock, kafka, mqtt) runs it through a harness
 * that builds the endpoint against a real broker and puts messages in / reads them back with an
 * *independent* client (never the endpoint under test).
 *
 * Messages a broker holds before a subscription is live are not the subscription's: tests "warm
 * up" by injecting marker messages until one arrives (bounded), then check exactly what follows.
 */
import { describe, expect, it } from 'vitest';
import type { Endpoint } from '../../runtime/endpoints/endpoint.ts';
import type { Message } from '../../core/message.ts';
import { GatewayError } from '../../core/errors.ts';

export interface Injected {
  readonly content: Buffer;
  readonly headers?: Readonly<Record<string, string>>;
}

export interface EndpointUnderTest {
  readonly endpoint: Endpoint;
  /** Puts messages into the broker in this order with an independent client. Absent: the endpoint generates its own (mock). */
  readonly inject?: (messages: readonly Injected[]) => Promise<void>;
  /** Arms an independent reader of what the endpoint publishes; `next()` yields records in order. */
  readonly readPublished: () => Promise<{ next(): Promise<Injected>; close(): Promise<void> }>;
  /** How many upstream subscriptions the broker sees for this endpoint now (consumer group members, MQTT subscribers). */
  readonly upstreams?: () => Promise<number>;
  dispose(): Promise<void>;
}

export interface EndpointContract {
  readonly name: string;
  /** A fresh endpoint (its own topic), not yet started. */
  create(): Promise<EndpointUnderTest>;
}

/** Reads a subscription in the background; tests wait on what it collected. */
export function collect(iterable: AsyncIterable<Message>) {
  const messages: Message[] = [];
  let error: unknown;
  let ended = false;
  const waiters = new Set<() => void>();
  const notify = () => waiters.forEach((w) => w());
  const done = (async () => {
    try {
      for await (const m of iterable) {
        messages.push(m);
        notify();
      }
    } catch (e) {
      error = e;
    } finally {
      ended = true;
      notify();
    }
  })();
  const until = (test: () => boolean, ms: number, what: string): Promise<void> =>
    new Promise((resolve, reject) => {
      const check = () => {
        if (test()) return finish(resolve);
        if (ended && !test()) return finish(() => reject(new Error(`${what}: subscription ended (${String(error)}) with ${messages.length} messages`)));
      };
      const timer = setTimeout(() => finish(() => reject(new Error(`${what}: not within ${ms} ms (${messages.length} messages: ${texts(messages).slice(-5).join(' | ')})`))), ms);
      const finish = (f: () => void) => {
        clearTimeout(timer);
        waiters.delete(check);
        f();
      };
      waiters.add(check);
      check();
    });
  return {
    messages,
    done,
    get ended() {
      return ended;
    },
    get error() {
      return error;
    },
    until,
    count: (n: number, ms = 15_000) => until(() => messages.length >= n, ms, `${n} messages`),
  };
}

/** What an independent reader saw, in order; `next()` waits (at most `ms`) for the next unread record. */
export function publishedRecords(ms: number, what: string) {
  const records: Injected[] = [];
  const waiters: Array<() => void> = [];
  let read = 0;
  return {
    push(record: Injected): void {
      records.push(record);
      waiters.splice(0).forEach((w) => w());
    },
    async next(): Promise<Injected> {
      const deadline = Date.now() + ms;
      while (records.length <= read) {
        if (Date.now() > deadline) throw new Error(`no published ${what} read within ${ms / 1000} s`);
        await new Promise<void>((r) => {
          waiters.push(r);
          setTimeout(r, 500);
        });
      }
      return records[read++]!;
    },
  };
}

export const texts = (messages: readonly Message[]) => messages.map((m) => m.content.toString('utf8'));
const real = (messages: readonly Message[]) => messages.filter((m) => !m.content.toString('utf8').startsWith('warmup-'));

/** Injects markers until the subscription shows one (bounded): from then on it is live. */
export async function warmUp(inject: NonNullable<EndpointUnderTest['inject']>, sub: ReturnType<typeof collect>, tag: string): Promise<void> {
  for (let i = 0; i < 60; i++) {
    await inject([{ content: Buffer.from(`warmup-${tag}-${i}`) }]);
    try {
      await sub.until(() => sub.messages.length > 0, 500, 'warm-up');
      return;
    } catch (error) {
      if (sub.ended) throw error;
    }
  }
  throw new Error('the subscription never received a warm-up message within 30 s');
}

const batch = (prefix: string, n: number, from = 0): Injected[] =>
  Array.from({ length: n }, (_, i) => ({ content: Buffer.from(`${prefix}-${from + i}`), headers: { seq: String(from + i) } }));

export function endpointContract(contract: EndpointContract): void {
  describe(`endpoint contract: ${contract.name}`, () => {
    async function started(): Promise<EndpointUnderTest> {
      const under = await contract.create();
      await under.endpoint.start();
      expect(under.endpoint.health()).toEqual({ healthy: true });
      return under;
    }

    it('subscribe delivers messages in broker order with their headers', async () => {
      const under = await started();
      const controller = new AbortController();
      try {
        const sub = collect(under.endpoint.subscribe({ signal: controller.signal }));
        if (!under.inject) {
          await sub.count(5);
          expect(sub.messages.slice(0, 5).map((m) => m.id)).toEqual(['0', '1', '2', '3', '4']);
          return;
        }
        await warmUp(under.inject, sub, 'order');
        await under.inject(batch('ordered', 20));
        await sub.until(() => real(sub.messages).length >= 20, 15_000, '20 messages');
        const got = real(sub.messages);
        expect(texts(got)).toEqual(batch('ordered', 20).map((m) => m.content.toString()));
        expect(got.map((m) => m.headers.seq)).toEqual(batch('ordered', 20).map((m) => m.headers!.seq));
        expect(new Set(got.map((m) => m.id)).size).toBe(20);
      } finally {
        controller.abort();
        await under.endpoint.stop();
        await under.dispose();
      }
    });

    it('publish resolves once acknowledged and an independent client reads content and headers', async () => {
      const under = await started();
      const reader = await under.readPublished();
      try {
        const payload = Buffer.from([0x00, 0xff, 0xfe, 0x41, 0x0a]); // not UTF-8: bytes must survive
        await under.endpoint.publish({ content: payload, headers: { 'x-trace': 'abc' }, metadata: {} });
        await under.endpoint.publish({ content: Buffer.from('second'), headers: {}, metadata: {} });
        const first = await reader.next();
        expect(first.content.equals(payload)).toBe(true);
        expect(first.headers?.['x-trace']).toBe('abc');
        expect((await reader.next()).content.toString()).toBe('second');
      } finally {
        await reader.close();
        await under.endpoint.stop();
        await under.dispose();
      }
    });

    it('aborting ends the iteration and releases the upstream subscription', async () => {
      const under = await started();
      try {
        const controller = new AbortController();
        const sub = collect(under.endpoint.subscribe({ signal: controller.signal }));
        if (under.inject) await warmUp(under.inject, sub, 'abort');
        else await sub.count(1);
        if (under.upstreams) expect(await under.upstreams()).toBe(1);
        controller.abort();
        await sub.until(() => sub.ended, 15_000, 'iteration ended after abort');
        expect(sub.error).toBeUndefined();
        if (under.upstreams) await eventually(async () => expect(await under.upstreams!()).toBe(0), 15_000);
      } finally {
        await under.endpoint.stop();
        await under.dispose();
      }
    });

    it('a cursor resumes strictly after its message: every later message, none twice', async () => {
      const under = await started();
      try {
        if (!under.endpoint.resumable) {
          // Not resumable: a cursor must not break subscribing (it is ignored).
          const controller = new AbortController();
          const sub = collect(under.endpoint.subscribe({ signal: controller.signal, cursor: 'anything' }));
          if (under.inject) await warmUp(under.inject, sub, 'cursor-ignored');
          else await sub.count(1);
          controller.abort();
          return;
        }
        const first = new AbortController();
        const sub = collect(under.endpoint.subscribe({ signal: first.signal }));
        if (!under.inject) {
          await sub.count(3);
          first.abort();
          const cursor = sub.messages[2]!.id;
          const again = new AbortController();
          const resumed = collect(under.endpoint.subscribe({ signal: again.signal, cursor }));
          await resumed.count(2);
          again.abort();
          expect(resumed.messages.slice(0, 2).map((m) => m.id)).toEqual([String(Number(cursor) + 1), String(Number(cursor) + 2)]);
          return;
        }
        await warmUp(under.inject, sub, 'cursor');
        await under.inject(batch('before', 10));
        await sub.until(() => real(sub.messages).length >= 10, 15_000, '10 messages');
        const cursor = real(sub.messages)[5]!.id; // last seen: before-5
        first.abort();
        await sub.until(() => sub.ended, 15_000, 'first subscription ended');
        await under.inject([...batch('after', 10), { content: Buffer.from('sentinel') }]);
        const again = new AbortController();
        const resumed = collect(under.endpoint.subscribe({ signal: again.signal, cursor }));
        await resumed.until(() => texts(resumed.messages).includes('sentinel'), 20_000, 'sentinel after resume');
        again.abort();
        expect(texts(resumed.messages)).toEqual([
          'before-6', 'before-7', 'before-8', 'before-9',
          ...batch('after', 10).map((m) => m.content.toString()),
          'sentinel',
        ]);
      } finally {
        await under.endpoint.stop();
        await under.dispose();
      }
    });

    it('a malformed cursor is a 400, not a crash', async () => {
      const under = await started();
      try {
        if (!under.endpoint.resumable) return;
        const sub = collect(under.endpoint.subscribe({ signal: new AbortController().signal, cursor: '%%not a cursor%%' }));
        await sub.until(() => sub.ended, 5_000, 'iteration ended');
        expect(sub.error).toBeInstanceOf(GatewayError);
        expect((sub.error as GatewayError).status).toBe(400);
      } finally {
        await under.endpoint.stop();
        await under.dispose();
      }
    });

    it('stop() ends running subscriptions and is idempotent', async () => {
      const under = await started();
      try {
        const controller = new AbortController();
        const sub = collect(under.endpoint.subscribe({ signal: controller.signal }));
        if (under.inject) await warmUp(under.inject, sub, 'stop');
        else await sub.count(1);
        await under.endpoint.stop();
        await under.endpoint.stop();
        await sub.until(() => sub.ended, 15_000, 'iteration ended after stop');
        if (under.upstreams) await eventually(async () => expect(await under.upstreams!()).toBe(0), 15_000);
      } finally {
        await under.dispose();
      }
    });
  });
}

/** Retries an assertion until it passes or the time is up (for broker-side state that settles). */
export async function eventually(assertion: () => Promise<void>, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  for (;;) {
    try {
      return await assertion();
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await new Promise((r) => setTimeout(r, 200));
    }
  }
}

/** A call the endpoint refuses while its broker is unreachable: 503 ENDPOINT_UNAVAILABLE. */
export async function expectUnavailable(promise: Promise<unknown>): Promise<void> {
  const error = await promise.then(() => undefined, (e: unknown) => e);
  expect(error).toBeInstanceOf(GatewayError);
  expect((error as GatewayError).code).toBe('ENDPOINT_UNAVAILABLE');
  expect((error as GatewayError).status).toBe(503);
}
