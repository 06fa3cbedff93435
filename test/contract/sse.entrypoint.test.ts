import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EventSource } from 'eventsource';
import type { Gateway } from '../../runtime/gateway.ts';
import { gatewayWith, waitFor } from '../support/harness.ts';
import { makeBundle } from '../support/bundles.ts';
import { mockBackend, numberedMockRegistry } from './numbered-mock.ts';
import { entrypointContract } from './entrypoint-suite.ts';
import { sseDriver } from './entrypoint-drivers.ts';
import { openSse } from './sse-client.ts';

entrypointContract(sseDriver, mockBackend());

describe('sse framing', () => {
  let gateway: Gateway;
  beforeAll(async () => {
    gateway = await gatewayWith(makeBundle({
      lines: {
        definition: {
          entrypoints: [{ type: 'sse', heartbeatIntervalInMs: 2000, retryMs: 1500, headersAsComment: true, metadataAsComment: true }],
          endpoints: [{ type: 'mock', messageInterval: 30, messageContent: 'one\ntwo\r\nthree', headers: { 'x-h': 'v' }, metadata: { region: 'eu' } }],
        },
      },
      counted: { definition: { entrypoints: [{ type: 'sse', retryMs: 200 }], endpoints: [{ type: 'mock', messageInterval: 20, messageCount: 3, messageContent: 'c' }] } },
      quiet: { definition: { entrypoints: [{ type: 'sse', heartbeatIntervalInMs: 2000 }], endpoints: [{ type: 'mock', messageInterval: 60_000, messageContent: 'slow' }] } },
    }), { registry: numberedMockRegistry() });
  });
  afterAll(() => gateway?.close());

  it('starts with retry, then id/event/data with one data line per content line, headers and metadata as comments', async () => {
    const stream = await openSse(`${gateway.url}/lines/`);
    try {
      expect(stream.headers.get('content-type')).toMatch(/^text\/event-stream/);
      expect(stream.headers.get('cache-control')).toBe('no-cache');
      await stream.until((s) => s.events.length >= 2, 5_000, 'two events');
      expect(stream.raw().startsWith('retry: 1500\n\n')).toBe(true);
      expect(stream.raw()).toContain(': header x-h: v\n: metadata region: "eu"\nid: 0\nevent: message\ndata: one\ndata: two\ndata: three\n\n');
      expect(stream.events[0]).toEqual({ id: '0', event: 'message', data: 'one\ntwo\nthree' });
    } finally {
      stream.close();
    }
  });

  it('sends heartbeat comments while no message flows', async () => {
    const stream = await openSse(`${gateway.url}/quiet/`);
    try {
      await stream.until((s) => s.comments.includes('heartbeat'), 4_000, 'a heartbeat comment');
      expect(stream.events).toEqual([]);
    } finally {
      stream.close();
    }
  });

  it('answers a malformed ?cursor= with 400 before streaming', async () => {
    const stream = await openSse(`${gateway.url}/lines/?cursor=not-a-mock-id`);
    expect(stream.status).toBe(400);
    expect(JSON.parse(stream.body).code).toBe('INVALID_CURSOR');
  });

  it('ignores a Last-Event-ID it cannot resume from (EventSource gives up on any answer but 200): a comment, then the stream from now', async () => {
    for (const id of ['not-a-mock-id', 'kafka@0#1']) {
      const stream = await openSse(`${gateway.url}/lines/`, { 'last-event-id': id });
      try {
        expect(stream.status).toBe(200);
        await stream.until((s) => s.events.length >= 1, 5_000, 'an event');
        expect(stream.comments.some((c) => c.startsWith('Last-Event-ID ignored (INVALID_CURSOR'))).toBe(true);
        expect(stream.events[0]!.id).toBe('0');
      } finally {
        stream.close();
      }
    }
  });

  it('an EventSource client (eventsource package) receives events and sends Last-Event-ID when it reconnects', async () => {
    const seen: string[] = [];
    const lastEventIds: (string | null)[] = [];
    const es = new EventSource(`${gateway.url}/counted/`, {
      fetch: (input, init) => {
        lastEventIds.push(new Headers(init?.headers).get('last-event-id'));
        return fetch(input, init);
      },
    });
    try {
      es.onmessage = (event) => seen.push(event.lastEventId);
      // The stream ends after ids 0..2 (messageCount 3); EventSource reconnects after `retry` with Last-Event-ID 2.
      await waitFor(() => lastEventIds.length >= 2, 5_000, 'EventSource to reconnect');
      expect(seen).toEqual(['0', '1', '2']);
      expect(lastEventIds.slice(0, 2)).toEqual([null, '2']);
    } finally {
      es.close();
    }
  });
});
