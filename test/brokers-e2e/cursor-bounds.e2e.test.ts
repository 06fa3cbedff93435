/**
 * Cursors a Kafka API refuses or bounds, against the real broker:
 * - a cursor naming a partition the topic does not have (or more partitions than it has) is
 *   400 INVALID_CURSOR over HTTP GET, SSE `?cursor=` and the WebSocket handshake (before any
 *   stream starts); an EventSource's Last-Event-ID of that kind is ignored, as any unusable one;
 * - `consumer.maxReplay` as a record count or a duration: a cursor older than the bound starts at it.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Kafka, logLevel, type Admin, type Producer } from 'kafkajs';
import type { Gateway } from '../../runtime/gateway.ts';
import { connect, gatewayWith, waitFor, wsUrl } from '../support/harness.ts';
import { makeBundle } from '../support/bundles.ts';
import { kafkaBootstrap } from '../support/brokers/brokers.ts';
import { openSse } from '../contract/sse-client.ts';
import { httpGet, sse, websocketHandshake } from '../plans/transports.ts';

const run = randomUUID().slice(0, 6);
const topics = { two: `bounds-two-${run}`, count: `bounds-count-${run}`, time: `bounds-time-${run}` };
const b64 = (text: string) => Buffer.from(text, 'utf8').toString('base64url');
let bootstrap: string;
let admin: Admin;
let producer: Producer;
let gateway: Gateway;

interface Envelope {
  content: string;
  metadata: { partition: number; offset: string };
}

function kafkaApi(topic: string, maxReplay?: string | number) {
  return {
    definition: {
      entrypoints: [{ type: 'http-get', messagesLimitCount: 1, messagesLimitDurationMs: 2_000 }, { type: 'sse' }, { type: 'websocket', publisher: false, messageEnvelope: true }],
      endpoints: [{ type: 'kafka', bootstrapServers: [bootstrap], consumer: { topics: [topic], ...(maxReplay === undefined ? {} : { maxReplay }) } }],
    } as never,
  };
}

beforeAll(async () => {
  bootstrap = await kafkaBootstrap();
  const kafka = new Kafka({ clientId: 'cursor-bounds', brokers: [bootstrap], logLevel: logLevel.NOTHING });
  admin = kafka.admin();
  producer = kafka.producer();
  await Promise.all([admin.connect(), producer.connect()]);
  await admin.createTopics({ topics: Object.values(topics).map((topic) => ({ topic, numPartitions: 2 })), waitForLeaders: true });
  gateway = await gatewayWith(makeBundle({ two: kafkaApi(topics.two), last10: kafkaApi(topics.count, 10), lasthour: kafkaApi(topics.time, '1h') }));
  // The endpoints are warm once /readyz says so (a busy broker may fail the first probes; a cursor is then a 503).
  for (let i = 0; (await fetch(`${gateway.adminUrl}/readyz?strict=1`)).status !== 200; i++) {
    if (i > 200) throw new Error('the gateway did not get ready');
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}, 90_000);
afterAll(async () => {
  await gateway?.close();
  await Promise.allSettled([producer?.disconnect(), admin?.disconnect()]);
});

/** Envelopes a WebSocket client resuming from `cursor` receives: waits for `expected`, then 1.5 s more for any extra. */
async function resumed(path: string, cursor: string, expected: number): Promise<Envelope[]> {
  const client = connect(wsUrl(gateway, `${path}?cursor=${cursor}`));
  await client.opened;
  try {
    await waitFor(() => client.messages.length >= expected, 30_000, `${expected} messages`);
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    return client.texts().map((text) => JSON.parse(text) as Envelope);
  } finally {
    client.ws.close();
  }
}

const byPartition = (envelopes: Envelope[]) =>
  [0, 1].map((p) => envelopes.filter((e) => e.metadata.partition === p).map((e) => Number(e.metadata.offset)));
const range = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => from + i);

describe('cursors a Kafka API refuses', () => {
  const cases: [string, string][] = [
    ['partition 7 of a 2-partition topic', b64(`${topics.two}@0#-1,7#-1`)],
    ['more partitions than the topic has', b64(`${topics.two}@0#-1,1#-1,2#-1`)],
  ];
  it.each(cases)('%s: 400 INVALID_CURSOR over HTTP GET, SSE ?cursor= and the WebSocket handshake', { timeout: 30_000 }, async (_name, cursor) => {
    for (const [transport, attempt] of [['HTTP GET', httpGet], ['SSE', sse], ['WebSocket', websocketHandshake]] as const) {
      const outcome = await attempt(gateway, '/two/', { query: `cursor=${cursor}` });
      expect({ transport, status: outcome.status, code: outcome.code }).toEqual({ transport, status: 400, code: 'INVALID_CURSOR' });
    }
  });

  it('a cursor naming both partitions of the topic is accepted on every transport', { timeout: 30_000 }, async () => {
    const cursor = b64(`${topics.two}@0#-1,1#-1`);
    expect((await sse(gateway, '/two/', { query: `cursor=${cursor}` })).status).toBe(200);
    expect((await websocketHandshake(gateway, '/two/', { query: `cursor=${cursor}` })).status).toBe(101);
    expect((await httpGet(gateway, '/two/', { query: `cursor=${cursor}` })).status).toBe(200);
  });

  it('a cursor naming 1,000 partitions (as long as a URL allows) is refused', { timeout: 30_000 }, async () => {
    const cursor = b64(`${topics.two}@${range(0, 1_000).map((p) => `${p}#1`).join(',')}`);
    const outcome = await httpGet(gateway, '/two/', { query: `cursor=${cursor}` });
    expect({ status: outcome.status, code: outcome.code }).toEqual({ status: 400, code: 'INVALID_CURSOR' });
  });

  it('an EventSource Last-Event-ID naming partition 7 is ignored (EventSource gives up on any answer but 200): the stream starts now', { timeout: 30_000 }, async () => {
    const stream = await openSse(`${gateway.url}/two/`, { 'last-event-id': b64(`${topics.two}@7#-1`) });
    try {
      expect(stream.status).toBe(200);
      await stream.until((s) => s.comments.some((c) => c.startsWith('Last-Event-ID ignored (INVALID_CURSOR')), 10_000, 'the ignored comment');
    } finally {
      stream.close();
    }
  });
});

describe('consumer.maxReplay', () => {
  it('a record count: a cursor from the beginning resumes with exactly the last 10 records of each partition; a newer cursor is kept', { timeout: 90_000 }, async () => {
    for (const partition of [0, 1]) {
      await producer.send({ topic: topics.count, messages: range(0, 100).map((i) => ({ partition, value: `p${partition}-${i}` })) });
    }
    const fromStart = await resumed('/last10/', b64(`${topics.count}@0#-1,1#-1`), 20);
    expect(byPartition(fromStart)).toEqual([range(90, 100), range(90, 100)]);
    expect(fromStart.filter((e) => e.metadata.partition === 1).map((e) => e.content)).toEqual(range(90, 100).map((i) => `p1-${i}`));
    // Within the bound the cursor wins: after offset 95 of partition 0, after 97 of partition 1.
    const recent = await resumed('/last10/', b64(`${topics.count}@0#95,1#97`), 6);
    expect(byPartition(recent)).toEqual([range(96, 100), range(98, 100)]);
  });

  it('a duration: a cursor from the beginning resumes at the first record stamped within the last hour', { timeout: 90_000 }, async () => {
    const now = Date.now();
    const stamped = (partition: number, label: string, ageMs: number, n: number) =>
      range(0, n).map((i) => ({ partition, value: `${label}-${i}`, timestamp: String(now - ageMs + i) }));
    for (const partition of [0, 1]) {
      await producer.send({ topic: topics.time, messages: [...stamped(partition, 'day-old', 86_400_000, 4), ...stamped(partition, 'two-hours', 7_200_000, 3), ...stamped(partition, 'recent', 600_000, 5)] });
    }
    const envelopes = await resumed('/lasthour/', b64(`${topics.time}@0#-1,1#-1`), 10);
    // 4 + 3 records older than an hour in each partition: the bound is offset 7.
    expect(byPartition(envelopes)).toEqual([range(7, 12), range(7, 12)]);
    expect(envelopes.every((e) => e.content.startsWith('recent-'))).toBe(true);
  });
});
