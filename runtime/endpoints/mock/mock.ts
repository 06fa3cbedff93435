/**
 * The built-in mock broker. Generates per subscriber (not shared): ids "0", "1", …, the first
 * message one interval after subscribing, then one per interval on a fixed schedule; a cursor
 * `n` resumes at `n+1`; `messageCount` bounds the ids (0 … messageCount-1). Publishing accepts
 * and records the message in a bounded ring (the newest RECORD_LIMIT), then resolves.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { MockEndpoint as MockConfig } from '../../../schemas/types.ts';
import type { Endpoint, EndpointFactory, SubscribeOptions } from '../endpoint.ts';
import type { Message, PublishMessage } from '../../../core/message.ts';
import { message } from '../../../core/message.ts';
import { errors } from '../../../core/errors.ts';

export const RECORD_LIMIT = 1000;
const MAX_TIMER_MS = 2 ** 31 - 1;

export interface MockEndpointInstance extends Endpoint {
  /** Messages published to this endpoint, oldest first (at most RECORD_LIMIT). */
  recorded(): readonly PublishMessage[];
}

export const createMockEndpoint: EndpointFactory<MockConfig> = (config) => createMock(config);

export function createMock(config: MockConfig): MockEndpointInstance {
  const interval = config.messageInterval ?? 1000;
  const content = Buffer.from(config.messageContent ?? 'mock message', 'utf8');
  const count = config.messageCount;
  const headers = Object.freeze({ ...(config.headers ?? {}) });
  const metadata = Object.freeze({ ...(config.metadata ?? {}) });
  const records: PublishMessage[] = [];
  let stopping = new AbortController();

  function firstId(cursor: string | undefined): number {
    if (cursor === undefined) return 0;
    if (!/^(0|[1-9][0-9]{0,15})$/.test(cursor)) {
      throw errors.badRequest('INVALID_CURSOR', 'The cursor is not a message id of this API.');
    }
    return Number(cursor) + 1;
  }

  async function* generate(options: SubscribeOptions): AsyncGenerator<Message> {
    let id = firstId(options.cursor);
    // Ends with the subscriber or the endpoint. Linked by listeners removed when the subscription
    // ends: AbortSignal.any on the endpoint-long `stopping` signal keeps every subscription's
    // signal alive as long as the endpoint (node 20).
    const stop = stopping.signal;
    const ended = new AbortController();
    const end = () => ended.abort();
    if (options.signal.aborted || stop.aborted) return;
    options.signal.addEventListener('abort', end, { once: true });
    stop.addEventListener('abort', end, { once: true });
    try {
      const started = Date.now();
      for (let n = 1; count === undefined || id < count; n++, id++) {
        const due = started + n * interval;
        try {
          // A node timer waits at most 2^31-1 ms (a longer delay fires at once): wait in steps.
          do await sleep(Math.min(MAX_TIMER_MS, Math.max(0, due - Date.now())), undefined, { signal: ended.signal });
          while (Date.now() < due);
        } catch {
          return;
        }
        yield message({ id: String(id), content, headers, metadata });
      }
    } finally {
      options.signal.removeEventListener('abort', end);
      stop.removeEventListener('abort', end);
    }
  }

  return {
    type: 'mock',
    publishes: true,
    subscribes: true,
    shared: false,
    resumable: true,
    async start() {
      stopping = new AbortController();
    },
    health: () => ({ healthy: true }),
    subscribe: (options) => generate(options),
    async publish(published) {
      records.push(Object.freeze({ content: published.content, headers: published.headers, metadata: published.metadata }));
      if (records.length > RECORD_LIMIT) records.splice(0, records.length - RECORD_LIMIT);
    },
    recorded: () => records.slice(),
    async stop() {
      stopping.abort();
    },
  };
}
