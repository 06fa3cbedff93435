/**
 * What a Kafka outage writes to the log, on a dedicated broker and a real `sluice serve` process
 * with several clients of one API (shared consumer and resuming consumers): one error line when
 * the endpoint goes down, one info line when it is back, at most one warn per client, no stack
 * traces, and kafkajs's own retry chatter kept out of info and above.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { Kafka, logLevel } from 'kafkajs';
import { makeBundle } from '../support/bundles.ts';
import { connect, waitFor, type Client } from '../support/harness.ts';
import { startKafka, type KafkaBroker } from '../support/brokers/kafka-broker.ts';
import { openSse, type SseStream } from '../contract/sse-client.ts';
import { kcatProduce } from '../brokers-e2e/clients.ts';
import { serve, type LogLine, type ServeProcess } from '../observability/serve-process.ts';

const WARN = 40;
const ERROR = 50;
let broker: KafkaBroker;
let gateway: ServeProcess;
const topic = 'outage-logs';

beforeAll(async () => {
  broker = await startKafka();
  const admin = new Kafka({ clientId: 'outage-logs-admin', brokers: [broker.bootstrap], logLevel: logLevel.NOTHING }).admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic, numPartitions: 1 }], waitForLeaders: true });
  await admin.disconnect();
  gateway = await serve(makeBundle({
    orders: {
      definition: {
        entrypoints: [{ type: 'sse', heartbeatIntervalInMs: 2000, retryMs: 500 }, { type: 'websocket' }],
        endpoints: [{ type: 'kafka', bootstrapServers: [broker.bootstrap], consumer: { topics: [topic] } }],
      } as never,
    },
  }));
});

afterAll(async () => {
  await gateway?.stop();
  await broker?.close();
});

const kafkaLines = (from: number) => gateway.lines.slice(from).filter((l) => l.api === 'orders' || typeof l.kafkajs === 'string' || l.endpoint === 'kafka');
const describeLines = (lines: LogLine[]) => lines.map((l) => JSON.stringify(l)).join('\n');

it('an outage with six clients: one error line down, one info line up, at most one warn per client, no stacks', { timeout: 180_000 }, async () => {
  const ws: Client[] = Array.from({ length: 3 }, () => connect(`${gateway.url.replace('http', 'ws')}/orders/`));
  const sse: SseStream[] = await Promise.all(Array.from({ length: 2 }, () => openSse(`${gateway.url}/orders/`)));
  await Promise.all(ws.map((c) => c.opened));
  for (let i = 0; !(ws.every((c) => c.messages.length > 0) && sse.every((s) => s.events.some((e) => e.event === 'message'))); i++) {
    if (i > 60) throw new Error(`the clients never received a warm-up message: ${ws.map((c) => c.messages.length)} ${sse.map((s) => s.raw().slice(0, 300))}`);
    await kcatProduce(broker.bootstrap, topic, [`warmup-${i}`]);
    await waitFor(() => ws.every((c) => c.messages.length > 0) && sse.every((s) => s.events.some((e) => e.event === 'message')), 1_000, 'warm-up').catch(() => {});
  }
  // A resuming client: its own consumer, from the cursor of the last message it saw.
  const cursor = sse[0]!.events.filter((e) => e.event === 'message').at(-1)!.id!;
  const resuming = await openSse(`${gateway.url}/orders/`, { 'last-event-id': cursor });
  expect(resuming.status).toBe(200);
  const clients = ws.length + sse.length + 1;

  const before = gateway.lines.length;
  await broker.stop();
  await Promise.all(ws.map((c) => c.closed));
  await Promise.all([...sse, resuming].map((s) => s.until((x) => x.events.some((e) => e.event === 'error'), 60_000, 'SSE error event')));
  // Retries keep running while it is down: give them time to (not) log.
  await gateway.line((l) => l.level === ERROR && l.api === 'orders', 30_000, 'the endpoint-down error line');
  await new Promise((resolve) => setTimeout(resolve, 8_000));
  await broker.start();
  await gateway.line((l) => l.msg === 'kafka endpoint healthy' && gateway.lines.indexOf(l) >= before, 120_000, 'the endpoint-up line');
  await new Promise((resolve) => setTimeout(resolve, 2_000));

  const lines = kafkaLines(before);
  const errors = lines.filter((l) => (l.level ?? 0) >= ERROR);
  expect(errors, describeLines(lines)).toHaveLength(1);
  expect(errors[0]).toMatchObject({ api: 'orders', endpoint: 'kafka', msg: 'kafka endpoint unhealthy' });
  const ups = lines.filter((l) => l.msg === 'kafka endpoint healthy');
  expect(ups, describeLines(lines)).toHaveLength(1);
  const warns = lines.filter((l) => l.level === WARN);
  expect(warns.length, describeLines(lines)).toBeLessThanOrEqual(clients);
  // Each client's own line says why it was cut.
  const cut = warns.filter((l) => l.event === 'request' && l.code === 'ENDPOINT_UNAVAILABLE');
  expect(cut.map((l) => l.entrypoint).sort(), describeLines(lines)).toEqual(['sse', 'sse', 'sse', 'websocket', 'websocket', 'websocket']);
  expect(lines.filter((l) => JSON.stringify(l).includes('"stack"')), describeLines(lines)).toEqual([]);
  expect(lines.filter((l) => typeof l.kafkajs === 'string' && (l.level ?? 0) >= 30), describeLines(lines)).toEqual([]);
  for (const s of [...sse, resuming]) s.close();
});
