/**
 * Traces (OpenTelemetry), end to end with real components: `sluice serve` with
 * OTEL_EXPORTER_OTLP_ENDPOINT pointing at a local OTLP/HTTP receiver (otlp-receiver.ts), real
 * Kafka and Mosquitto from the harness, a real webhook callback server, kcat and an MQTT 5 client
 * reading what the gateway published.
 *
 * A POST with a W3C traceparent: the Kafka record carries a traceparent of the same trace (kcat),
 * the webhook callback receives one too, the request's log line has its trace_id, and the receiver
 * gets spans that chain SERVER -> PRODUCER -> CONSUMER (process) -> CLIENT (the callback attempt).
 * Without the variable no traceparent is added and no line has a trace_id.
 */
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import mqtt from 'mqtt';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Plan } from '../../schemas/types.ts';
import { makeBundle } from '../support/bundles.ts';
import { connect, gatewayWith, waitFor, type Client } from '../support/harness.ts';
import { mqttUrl } from '../support/brokers/brokers.ts';
import { kcatConsume } from '../brokers-e2e/clients.ts';
import { freshTopic, kafkaTools, type KafkaTools } from '../webhooks/kafka-fixtures.ts';
import { startCallbackServer, type CallbackServer } from '../webhooks/callback-server.ts';
import { serve, type ServeProcess } from './serve-process.ts';
import { KIND, startOtlpReceiver, type OtlpReceiver, type ReceivedSpan } from './otlp-receiver.ts';
import { tracingConfigured, tracingFromEnv } from '../../runtime/tracing/tracing.ts';

let tools: KafkaTools;
let receiver: OtlpReceiver;
let callback: CallbackServer | undefined;
let sluice: ServeProcess | undefined;

beforeAll(async () => {
  tools = await kafkaTools();
  receiver = await startOtlpReceiver();
});
afterAll(async () => {
  await tools?.close();
  await receiver?.close();
});
afterEach(async () => {
  await sluice?.stop();
  sluice = undefined;
  await callback?.close();
  callback = undefined;
});

const plans: Record<string, Plan> = {
  open: { type: 'keyless', name: 'Open', status: 'published' },
  push: { type: 'push', name: 'Push', status: 'published' },
};

/** POST in, Kafka topic, WebSocket subscribers and a webhook out: one API. */
function ordersBundle(topic: string, callbackUrl: string, deadLetterTopic?: string) {
  return makeBundle({
    orders: {
      definition: {
        entrypoints: [{ type: 'http-post' }, { type: 'websocket' }, { type: 'webhook' }],
        endpoints: [{ type: 'kafka', bootstrapServers: [tools.bootstrap], consumer: { topics: [topic], autoOffsetReset: 'earliest' }, producer: { topic } }],
      },
      plans,
      subscriptions: { acme: { plan: 'push', webhook: { callbackUrl, retry: { strategy: 'linear', initialDelayMs: 50, maxDelayMs: 100, maxAttempts: 5 }, ...(deadLetterTopic ? { deadLetter: { topic: deadLetterTopic } } : {}) } } },
    },
  });
}

/** Makes `sluice serve` print, at exit, how many OpenTelemetry SDK modules it loaded (otel-modules-probe.cjs). */
const probe = { NODE_OPTIONS: `--require "${fileURLToPath(new URL('./otel-modules-probe.cjs', import.meta.url))}"` };
const sdkModules = (output: string): number => Number(/opentelemetry-sdk-modules-loaded: (\d+)/.exec(output)?.[1] ?? Number.NaN);

const newTraceparent = () => {
  const traceId = randomBytes(16).toString('hex');
  const parentId = randomBytes(8).toString('hex');
  return { traceId, parentId, traceparent: `00-${traceId}-${parentId}-01` };
};

/** `00-<trace>-<span>-<flags>` split, or undefined. */
const parse = (value: unknown) => {
  const match = typeof value === 'string' ? /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/.exec(value) : null;
  return match ? { traceId: match[1]!, spanId: match[2]!, flags: match[3]! } : undefined;
};

const one = (spans: ReceivedSpan[], kind: number, what: string, name?: string): ReceivedSpan => {
  const found = spans.filter((s) => s.kind === kind && (name === undefined || s.name === name));
  if (found.length !== 1) throw new Error(`expected one ${what} span, got ${JSON.stringify(spans.map((s) => `${s.name}/${s.kind}`))}`);
  return found[0]!;
};

describe('traces over OTLP/HTTP', () => {
  it('carries a POST\'s trace into the Kafka record, the webhook callback and chained spans', async () => {
    const topic = await freshTopic(tools.admin, 1);
    // The first attempt is answered 503: two attempts, two CLIENT spans.
    callback = await startCallbackServer(({ index }) => (index === 0 ? 503 : 200));
    sluice = await serve(ordersBundle(topic, callback.url), [], {
      OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
      OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
      OTEL_SERVICE_NAME: 'sluice-test',
      OTEL_BSP_SCHEDULE_DELAY: '100',
      ...probe,
    });
    const subscriber: Client = connect(`${sluice.url.replace(/^http/, 'ws')}/orders/`);
    await subscriber.opened;
    const { traceId, parentId, traceparent } = newTraceparent();
    const res = await fetch(`${sluice.url}/orders/`, { method: 'POST', headers: { traceparent, 'content-type': 'text/plain' }, body: 'order-1' });
    expect(res.status).toBe(202);
    await waitFor(() => subscriber.texts().some((t) => t.includes('order-1')), 20_000, 'the WebSocket subscriber to get order-1');
    subscriber.ws.close();

    // The request's log line names the trace.
    const line = await sluice.line((l) => l.event === 'request' && l.method === 'POST', 10_000, 'the POST request line');
    expect(line.trace_id).toBe(traceId);

    // kcat, independent of the gateway: the record's traceparent belongs to the same trace.
    const [record] = await kcatConsume(tools.bootstrap, topic, 1);
    expect(record!.payload).toBe('order-1');
    const inKafka = parse(record!.headers.traceparent);
    expect(inKafka, `record headers ${JSON.stringify(record!.headers)}`).toBeDefined();
    expect(inKafka!.traceId).toBe(traceId);

    // The callback server sees the same trace, on each attempt.
    await callback.waitForDelivered(1, 30_000);
    expect(callback.received.map((r) => r.status)).toEqual([503, 200]);
    const firstAttempt = parse(callback.received[0]!.headers.traceparent);
    expect(firstAttempt?.traceId).toBe(traceId);
    const atCallback = parse(callback.received[1]!.headers.traceparent);
    expect(atCallback, `callback headers ${JSON.stringify(callback.received[0]!.headers)}`).toBeDefined();
    expect(atCallback!.traceId).toBe(traceId);

    // The spans chain: SERVER (child of the client's span) -> PRODUCER -> CONSUMER process -> CLIENT.
    const spans = await receiver.waitForTrace(traceId, (s) => [KIND.server, KIND.producer].every((k) => s.some((x) => x.kind === k)) && s.filter((x) => x.kind === KIND.consumer).length === 2 && s.filter((x) => x.kind === KIND.client).length === 2, 20_000);
    const server = one(spans, KIND.server, 'SERVER');
    const producer = one(spans, KIND.producer, 'PRODUCER');
    const consumer = one(spans, KIND.consumer, 'CONSUMER process', `process ${topic}`);
    const deliver = one(spans, KIND.consumer, 'CONSUMER deliver', `deliver ${topic}`);
    const [failed, client] = [firstAttempt!.spanId, atCallback!.spanId].map((id) => spans.find((s) => s.spanId === id)!);
    expect(failed, 'a CLIENT span for the first attempt').toBeDefined();
    expect(client, 'a CLIENT span for the second attempt').toBeDefined();
    expect(server.parentSpanId).toBe(parentId);
    expect(producer.parentSpanId).toBe(server.spanId);
    expect(consumer.parentSpanId).toBe(producer.spanId);
    expect(client!.parentSpanId).toBe(consumer.spanId);
    expect(failed!.parentSpanId).toBe(consumer.spanId);
    expect(failed!).toMatchObject({ kind: KIND.client, status: 2 });
    expect(failed!.attributes).toMatchObject({ 'http.response.status_code': 503, 'error.type': '503' });
    expect(client!.attributes['http.request.resend_count']).toBe(1);
    // The WebSocket subscriber's delivery: one span for the clients of the shared subscription, child of the producer's.
    expect(deliver.parentSpanId).toBe(producer.spanId);
    expect(deliver.attributes).toMatchObject({ 'messaging.system': 'kafka', 'messaging.destination.name': topic, 'messaging.operation.name': 'deliver', 'sluice.clients': 1 });
    // What went downstream names those spans: the record the producer span, the callback the client span.
    expect(inKafka!.spanId).toBe(producer.spanId);
    expect(line.span_id).toBe(server.spanId);

    expect(server).toMatchObject({ name: 'POST /orders/', service: 'sluice-test' });
    expect(server.attributes).toMatchObject({ 'http.request.method': 'POST', 'http.route': '/orders/', 'http.response.status_code': 202, 'sluice.api': 'orders', 'sluice.entrypoint': 'http-post' });
    expect(producer.name).toBe(`send ${topic}`);
    expect(producer.attributes).toMatchObject({ 'messaging.system': 'kafka', 'messaging.destination.name': topic, 'messaging.operation.type': 'send', 'messaging.message.body.size': 7 });
    expect(consumer.name).toBe(`process ${topic}`);
    expect(consumer.attributes).toMatchObject({ 'messaging.system': 'kafka', 'messaging.destination.name': topic, 'messaging.operation.type': 'process', 'messaging.consumer.group.name': 'sluice-webhook-orders-acme', 'messaging.destination.partition.id': '0', 'sluice.webhook.outcome': 'delivered', 'sluice.webhook.attempts': 2 });
    // The retry's log line names the trace of the message's process span.
    const retry = await sluice.line((l) => l.event === 'webhook-retry', 5_000, 'the webhook-retry line');
    expect(retry.trace_id).toBe(traceId);
    expect(client!).toMatchObject({ kind: KIND.client, status: 0 });
    expect(client!.attributes).toMatchObject({ 'http.request.method': 'POST', 'http.response.status_code': 200, 'url.full': callback.url, 'server.address': '127.0.0.1', 'server.port': callback.port });
    expect(receiver.rejected).toEqual([]);
    expect(await sluice.stop()).toBe(0);
    expect(sdkModules(sluice.output())).toBeGreaterThan(0);
  });

  it('publishes a dead letter in a PRODUCER span, child of the message\'s process span, whose traceparent the dead letter carries', async () => {
    const topic = await freshTopic(tools.admin, 1);
    const dlq = await freshTopic(tools.admin, 1);
    callback = await startCallbackServer(() => 400);
    sluice = await serve(ordersBundle(topic, callback.url, dlq), [], {
      OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
      OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
      OTEL_BSP_SCHEDULE_DELAY: '100',
    });
    const { traceId, traceparent } = newTraceparent();
    const res = await fetch(`${sluice.url}/orders/`, { method: 'POST', headers: { traceparent, 'content-type': 'text/plain' }, body: 'order-dl' });
    expect(res.status).toBe(202);
    await waitFor(() => callback!.received.length > 0, 30_000, 'the callback to be called (and answer 400)');
    // The span ends once the broker acknowledged the dead letter: then it is in the topic.
    await receiver.waitForTrace(traceId, (s) => s.some((x) => x.kind === KIND.producer && x.name === `send ${dlq}`), 20_000);

    const [letter] = await kcatConsume(tools.bootstrap, dlq, 1);
    expect(letter!.payload).toBe('order-dl');
    expect(letter!.headers['x-sluice-status']).toBe('400');
    const inDlq = parse(letter!.headers.traceparent);
    expect(inDlq, `dead letter headers ${JSON.stringify(letter!.headers)}`).toBeDefined();
    expect(inDlq!.traceId).toBe(traceId);

    const spans = await receiver.waitForTrace(traceId, (s) => s.some((x) => x.kind === KIND.producer && x.name === `send ${dlq}`) && s.some((x) => x.kind === KIND.consumer && x.name === `process ${topic}`), 20_000);
    const process = one(spans, KIND.consumer, 'CONSUMER process', `process ${topic}`);
    const dead = one(spans, KIND.producer, 'PRODUCER dead letter', `send ${dlq}`);
    expect(dead.parentSpanId).toBe(process.spanId);
    expect(dead.spanId).toBe(inDlq!.spanId);
    expect(dead.attributes).toMatchObject({ 'messaging.system': 'kafka', 'messaging.destination.name': dlq, 'messaging.operation.type': 'send', 'sluice.api': 'orders' });
    expect(process.attributes).toMatchObject({ 'sluice.webhook.outcome': 'refused' });
    expect(receiver.rejected).toEqual([]);
  });

  it('without an OTEL variable adds no traceparent, no trace_id and loads no SDK', async () => {
    const topic = await freshTopic(tools.admin, 1);
    callback = await startCallbackServer();
    const before = receiver.spans.length;
    sluice = await serve(ordersBundle(topic, callback.url), [], { OTEL_EXPORTER_OTLP_ENDPOINT: '', OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: '', ...probe });
    const { traceparent } = newTraceparent();
    const res = await fetch(`${sluice.url}/orders/`, { method: 'POST', headers: { traceparent }, body: 'order-2' });
    expect(res.status).toBe(202);
    const [record] = await kcatConsume(tools.bootstrap, topic, 1);
    expect(record!.payload).toBe('order-2');
    expect(record!.headers.traceparent).toBeUndefined();
    await callback.waitForDelivered(1, 30_000);
    expect(callback.received[0]!.headers.traceparent).toBeUndefined();
    const line = await sluice.line((l) => l.event === 'request' && l.method === 'POST', 10_000, 'the POST request line');
    expect(line.trace_id).toBeUndefined();
    expect(sluice.lines.some((l) => 'trace_id' in l)).toBe(false);
    expect(receiver.spans.length).toBe(before);
    // No SDK module was ever loaded.
    expect(await sluice.stop()).toBe(0);
    expect(sdkModules(sluice.output())).toBe(0);
  });

  it('refuses an unusable endpoint at start, naming the variable', async () => {
    await expect(serve(makeBundle({}), [], { OTEL_EXPORTER_OTLP_ENDPOINT: 'not a url' })).rejects.toThrow(/OTEL_EXPORTER_OTLP_ENDPOINT is not a URL/);
    await expect(serve(makeBundle({}), [], { OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url, OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc' })).rejects.toThrow(/OTEL_EXPORTER_OTLP_PROTOCOL=grpc is not supported/);
  });

  it('continues a message\'s trace for a client on a subscription of its own (mock endpoint)', async () => {
    const { traceId, parentId, traceparent } = newTraceparent();
    const tracing = await tracingFromEnv({ OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url, OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json' });
    const gateway = await gatewayWith(makeBundle({
      ticks: { definition: { entrypoints: [{ type: 'websocket' }], endpoints: [{ type: 'mock', messageInterval: 20, messageCount: 3, headers: { traceparent } }] } },
    }), { tracing });
    try {
      const client = connect(`${gateway.url.replace(/^http/, 'ws')}/ticks/`);
      await client.opened;
      await waitFor(() => client.messages.length === 3, 10_000, 'three mock messages');
      client.ws.close();
      await gateway.close();
      await tracing!.shutdown();
      const spans = await receiver.waitForTrace(traceId, (s) => s.filter((x) => x.name === 'deliver').length === 3, 5_000);
      for (const span of spans) {
        expect(span).toMatchObject({ kind: KIND.consumer, parentSpanId: parentId });
        expect(span.attributes).toMatchObject({ 'messaging.system': 'mock', 'messaging.operation.type': 'process', 'sluice.clients': 1, 'sluice.api': 'ticks' });
      }
    } finally {
      await gateway.close();
    }
  });

  it('sends OTLP/HTTP protobuf unless http/json is asked for', async () => {
    const tracing = (await tracingFromEnv({ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: `${receiver.url}/v1/traces` }))!;
    tracing.start('protobuf-check', 'server', {}).end();
    await tracing.shutdown();
    expect(receiver.protobuf.some((body) => body.includes('protobuf-check'))).toBe(true);
    expect(receiver.spans.some((s) => s.name === 'protobuf-check')).toBe(false);
  });

  it('reads the standard variables', () => {
    expect(tracingConfigured({})).toBe(false);
    expect(tracingConfigured({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318' })).toBe(true);
    expect(tracingConfigured({ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://collector:4318/v1/traces' })).toBe(true);
    expect(tracingConfigured({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318', OTEL_SDK_DISABLED: 'true' })).toBe(false);
    expect(tracingConfigured({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318', OTEL_TRACES_EXPORTER: 'none' })).toBe(false);
  });

  it('carries a POST\'s trace into MQTT 5 user properties', async () => {
    const broker = new URL(await mqttUrl());
    const topic = `traced/${randomBytes(4).toString('hex')}`;
    const reader = await mqtt.connectAsync(broker.href, { protocolVersion: 5, clientId: `trace-reader-${randomBytes(4).toString('hex')}` });
    const tracing = await tracingFromEnv({ OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url, OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json' });
    const gateway = await gatewayWith(makeBundle({
      sensors: {
        definition: {
          entrypoints: [{ type: 'http-post' }],
          endpoints: [{ type: 'mqtt', serverHost: broker.hostname, serverPort: Number(broker.port), producer: { topic, qos: 1 } }],
        },
      },
    }), { tracing });
    try {
      const received = new Promise<Record<string, unknown>>((resolve) => reader.on('message', (_topic, _payload, packet) => resolve((packet.properties?.userProperties ?? {}) as Record<string, unknown>)));
      await reader.subscribeAsync(topic, { qos: 1 });
      const { traceId, traceparent } = newTraceparent();
      const res = await fetch(`${gateway.url}/sensors/`, { method: 'POST', headers: { traceparent }, body: '21.5' });
      expect(res.status).toBe(202);
      const properties = await received;
      const inMqtt = parse(properties.traceparent);
      expect(inMqtt, `user properties ${JSON.stringify(properties)}`).toBeDefined();
      expect(inMqtt!.traceId).toBe(traceId);
      await gateway.close();
      await tracing!.shutdown(); // exports what is buffered
      const spans = await receiver.waitForTrace(traceId, (s) => s.some((x) => x.kind === KIND.producer), 5_000);
      const producer = one(spans, KIND.producer, 'PRODUCER');
      expect(producer.spanId).toBe(inMqtt!.spanId);
      expect(producer.attributes).toMatchObject({ 'messaging.system': 'mqtt', 'messaging.destination.name': topic });
      expect(producer.parentSpanId).toBe(one(spans, KIND.server, 'SERVER').spanId);
    } finally {
      await gateway.close();
      await reader.endAsync();
    }
  });
});
