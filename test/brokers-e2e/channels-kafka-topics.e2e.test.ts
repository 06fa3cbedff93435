/**
 * Kafka channels by topic against the suite's broker: `/telemetry/{tenant}` with `consumer.topics:
 * ["<prefix>.{tenant}"]` (one consumer per tenant asked for, bounded by fanout.maxChannels) and a
 * producer topic per tenant. Records are produced with kcat to each tenant's topic; a WebSocket client
 * and an SSE client each get only their tenant's, Last-Event-ID resumes in the channel; a value outside the pattern is 400; past
 * maxChannels a new channel is 503 CHANNEL_CAPACITY; an HTTP POST lands in the caller's topic (kcat -C).
 */
import { randomUUID } from 'node:crypto';
import { Kafka, logLevel, type Admin } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Gateway } from '../../runtime/gateway.ts';
import { connect, gatewayWith, waitFor, HandshakeRefused } from '../support/harness.ts';
import { makeBundle } from '../support/bundles.ts';
import { kafkaBootstrap } from '../support/brokers/brokers.ts';
import { openSse, sseContent, type SseStream } from '../contract/sse-client.ts';
import { kcatConsume, kcatProduce } from './clients.ts';

const prefix = `telemetry-${randomUUID().slice(0, 6)}`;
let bootstrap: string;
let admin: Admin;
let gateway: Gateway;
const texts = (s: SseStream) => s.events.filter((e) => e.event.startsWith('message')).map((e) => sseContent(e).toString('utf8'));
const real = (list: string[]) => list.filter((t) => !t.startsWith('warmup-'));
const endpoint = () => ({
  type: 'kafka', bootstrapServers: [bootstrap],
  consumer: { topics: [`${prefix}.{tenant}`] },
  producer: { topic: `${prefix}-in.{tenant}` },
});

beforeAll(async () => {
  bootstrap = await kafkaBootstrap();
  admin = new Kafka({ clientId: 'e2e-channel-topics-admin', brokers: [bootstrap], logLevel: logLevel.NOTHING }).admin();
  await admin.connect();
  await admin.createTopics({ waitForLeaders: true, topics: ['a', 'b'].flatMap((t) => [{ topic: `${prefix}.${t}`, numPartitions: 1 }, { topic: `${prefix}-in.${t}`, numPartitions: 1 }]) });
  gateway = await gatewayWith(makeBundle({
    telemetry: {
      definition: {
        contextPaths: ['/telemetry/{tenant}'],
        parameters: { tenant: { pattern: '[a-z]+' } },
        entrypoints: [{ type: 'sse', heartbeatIntervalInMs: 2000 }, { type: 'websocket' }, { type: 'http-post' }],
        endpoints: [endpoint()],
      } as never,
    },
    narrow: {
      definition: {
        contextPaths: ['/narrow/{tenant}'],
        parameters: { tenant: { values: ['a', 'b'] } },
        fanout: { maxChannels: 1 },
        entrypoints: [{ type: 'sse', heartbeatIntervalInMs: 2000 }, { type: 'websocket' }],
        endpoints: [endpoint()],
      } as never,
    },
  }));
});

afterAll(async () => {
  await gateway?.close();
  await admin?.disconnect();
});

describe('Kafka channels by topic', () => {
  it('clients on /telemetry/a (WebSocket) and /telemetry/b (SSE) each get only their topic\'s records, one consumer per channel; Last-Event-ID resumes in the channel', { timeout: 60_000 }, async () => {
    const a = connect(`${gateway.url.replace('http', 'ws')}/telemetry/a`);
    const b = await openSse(`${gateway.url}/telemetry/b`);
    try {
      await a.opened;
      expect(b.status).toBe(200);
      for (let i = 0; ; i++) {
        await kcatProduce(bootstrap, `${prefix}.a`, [`warmup-${i}`]);
        await kcatProduce(bootstrap, `${prefix}.b`, [`warmup-${i}`]);
        try {
          await waitFor(() => a.texts().length > 0 && texts(b).length > 0, 500, 'warm-up');
          break;
        } catch (error) {
          if (i >= 40) throw error;
        }
      }
      await kcatProduce(bootstrap, `${prefix}.a`, ['a1', 'a2']);
      await kcatProduce(bootstrap, `${prefix}.b`, ['b1', 'b2']);
      await waitFor(() => real(a.texts()).length >= 2 && real(texts(b)).length >= 2, 15_000, 'channel records');
      expect(real(a.texts())).toEqual(['a1', 'a2']);
      expect(real(texts(b))).toEqual(['b1', 'b2']);
      expect(gateway.routers.current!.exchanges.get('telemetry')!.channels!.channels).toBe(2);
    } finally {
      a.ws.close();
      b.close();
    }

    // Resume in the channel: Last-Event-ID of b's last record, then records of both tenants while b is away.
    const last = b.events.filter((e) => e.event.startsWith('message')).at(-1)!.id!;
    await kcatProduce(bootstrap, `${prefix}.a`, ['a3']);
    await kcatProduce(bootstrap, `${prefix}.b`, ['b3', 'b4']);
    const resumed = await openSse(`${gateway.url}/telemetry/b`, { 'last-event-id': last });
    try {
      expect(resumed.status).toBe(200);
      await resumed.until((s) => real(texts(s)).length >= 2, 15_000, 'resumed b records');
      expect(real(texts(resumed))).toEqual(['b3', 'b4']);
    } finally {
      resumed.close();
    }
  });

  it('a value outside the pattern is 400 INVALID_CHANNEL', async () => {
    const refused = await openSse(`${gateway.url}/telemetry/A-1`);
    expect(refused.status).toBe(400);
    expect(refused.body).toContain('INVALID_CHANNEL');
    const notListed = await openSse(`${gateway.url}/narrow/c`);
    expect(notListed.status).toBe(400);
    expect(notListed.body).toContain('INVALID_CHANNEL');
  });

  it('past fanout.maxChannels a new channel is 503 CHANNEL_CAPACITY (SSE: an error event); once the first channel\'s last client left, it opens', { timeout: 30_000 }, async () => {
    const first = connect(`${gateway.url.replace('http', 'ws')}/narrow/a`);
    await first.opened;
    const same = connect(`${gateway.url.replace('http', 'ws')}/narrow/a`);
    await same.opened; // the same channel: no new consumer
    const second = connect(`${gateway.url.replace('http', 'ws')}/narrow/b`);
    const refusal = await second.opened.then(() => undefined, (error: unknown) => error);
    expect(refusal).toBeInstanceOf(HandshakeRefused);
    expect((refusal as HandshakeRefused).status).toBe(503);
    expect((refusal as HandshakeRefused).body).toContain('CHANNEL_CAPACITY');
    expect((refusal as HandshakeRefused).headers['retry-after']).toBe('5');
    const sse = await fetch(`${gateway.url}/narrow/b`, { headers: { accept: 'text/event-stream' } });
    expect(sse.status).toBe(200); // SSE: an error event, so EventSource retries
    expect(await sse.text()).toMatch(/event: error\ndata: \{"code":"CHANNEL_CAPACITY"/);
    first.ws.close();
    same.ws.close();
    const exchange = gateway.routers.current!.exchanges.get('narrow')!;
    await waitFor(() => exchange.channels!.channels === 0, 10_000, 'the first channel closed');
    const later = connect(`${gateway.url.replace('http', 'ws')}/narrow/b`);
    try {
      await later.opened;
    } finally {
      later.ws.close();
    }
  });

  it('HTTP POST on /telemetry/a lands in the topic of tenant a', { timeout: 30_000 }, async () => {
    const posted = await fetch(`${gateway.url}/telemetry/a`, { method: 'POST', body: 'reading-a' });
    expect(posted.status).toBe(202);
    const [record] = await kcatConsume(bootstrap, `${prefix}-in.a`, 1);
    expect(record).toMatchObject({ payload: 'reading-a' });
  });
});
