/**
 * SSE streams of a shared subscription and WebSockets detach from their request once they are open
 * (HttpContext.detach): the server writes their log line and releases their connection when they
 * end, not when the entrypoint's handle/upgrade settles. Each ends with exactly one log line and no
 * connection left open, however it ends: the client leaves, the API is redeployed, the gateway
 * stops. Over MQTT (Mosquitto): a shared subscription, the path that detaches (the mock endpoint
 * gives each client a subscription of its own).
 */
import { randomUUID } from 'node:crypto';
import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Gateway } from '../../runtime/gateway.ts';
import { makeBundle, type ApiSpec } from '../support/bundles.ts';
import { connect, gatewayWith, waitFor, within, wsUrl } from '../support/harness.ts';
import { mqttUrl } from '../support/brokers/brokers.ts';
import { captureRequestLog, type RequestLine } from './request-log.ts';

const topic = `detached/${randomUUID().slice(0, 8)}`;
let broker: URL;
let publisher: MqttClient;
let ticker: NodeJS.Timeout;
let gateway: Gateway;

const api = (heartbeatIntervalInMs: number): ApiSpec => ({
  definition: {
    entrypoints: [{ type: 'sse', heartbeatIntervalInMs }, { type: 'websocket', publisher: false }],
    endpoints: [{ type: 'mqtt', serverHost: broker.hostname, serverPort: Number(broker.port), consumer: { topic } }],
  },
});

beforeAll(async () => {
  broker = new URL(await mqttUrl());
  publisher = await mqtt.connectAsync(broker.href, { protocolVersion: 5 });
  ticker = setInterval(() => void publisher.publishAsync(topic, 'tick').catch(() => {}), 20);
  gateway = await gatewayWith(makeBundle({ streams: api(2000) }));
  expect(gateway.routers.current!.exchanges.get('streams')!.subscribeEndpoint!.shared).toBe(true);
});
afterAll(async () => {
  clearInterval(ticker);
  await gateway.close();
  await publisher.endAsync();
});

const open = () => gateway.routers.current!.exchanges.get('streams')!.connections.size;

/** An SSE client that counts `event: message` and keeps what it read. */
const sse = (requestId: string) => sseOn(gateway, requestId);

function sseOn(on: Gateway, requestId: string) {
  const controller = new AbortController();
  const state = { events: 0, text: '', ended: false };
  const done = fetch(`${on.url}/streams/`, { headers: { accept: 'text/event-stream', 'x-request-id': requestId }, signal: controller.signal }).then(async (res) => {
    const decoder = new TextDecoder();
    for await (const chunk of res.body!) {
      state.text += decoder.decode(chunk as Uint8Array, { stream: true });
      state.events = state.text.split('event: message').length - 1;
    }
    state.ended = true;
  }).catch(() => void (state.ended = true));
  return { state, done, leave: () => controller.abort() };
}

async function lineOf(lines: RequestLine[], requestId: string): Promise<RequestLine> {
  await waitFor(() => lines.some((l) => l.requestId === requestId), 3000, `the log line of ${requestId}`);
  // Give a second line the time to show up if there were one.
  await new Promise((resolve) => setTimeout(resolve, 200));
  const mine = lines.filter((l) => l.requestId === requestId);
  expect(mine).toHaveLength(1);
  return mine[0]!;
}

describe('detached streams', () => {
  it('an SSE stream the client leaves: one log line (200, its messages), its connection released', async () => {
    const capture = captureRequestLog();
    try {
      const client = sse('qa-detached-sse');
      await waitFor(() => client.state.events >= 3, 3000, 'three events');
      expect(open()).toBe(1);
      client.leave();
      await client.done;
      const line = await lineOf(capture.lines, 'qa-detached-sse');
      expect(line).toMatchObject({ status: 200, path: '/streams/', entrypoint: 'sse', api: 'streams' });
      expect(line.code).toBeUndefined();
      expect(line.messages as number).toBeGreaterThanOrEqual(3);
      await waitFor(() => open() === 0, 2000, 'the connection to be released');
    } finally {
      capture.stop();
    }
  });

  it('a WebSocket the client closes: one log line (101, close code 1000, its messages), its connection released', async () => {
    const capture = captureRequestLog();
    try {
      const client = connect(wsUrl(gateway, '/streams/'), { headers: { 'X-Request-Id': 'qa-detached-ws' } });
      await waitFor(() => client.messages.length >= 3, 3000, 'three frames');
      client.ws.close(1000);
      await within(client.closed, 2000, 'the close');
      const line = await lineOf(capture.lines, 'qa-detached-ws');
      expect(line).toMatchObject({ status: 101, closeCode: 1000, path: '/streams/', entrypoint: 'websocket' });
      expect(line.code).toBeUndefined();
      expect(line.messages as number).toBeGreaterThanOrEqual(3);
      await waitFor(() => open() === 0, 2000, 'the connection to be released');
    } finally {
      capture.stop();
    }
  });

  it('a redeploy ends both with SERVICE_RESTART: the SSE error event, WebSocket 1012, one log line each with the code', async () => {
    const capture = captureRequestLog();
    try {
      const stream = sse('qa-redeploy-sse');
      const socket = connect(wsUrl(gateway, '/streams/'), { headers: { 'X-Request-Id': 'qa-redeploy-ws' } });
      await waitFor(() => stream.state.events >= 1 && socket.messages.length >= 1, 3000, 'both receiving');
      const exchange = gateway.routers.current!.exchanges.get('streams')!;
      expect(exchange.connections.size).toBe(2);
      expect((await gateway.deploy(makeBundle({ streams: api(3000) }))).deployed).toBe(true);
      expect((await within(socket.closed, 3000, 'the WebSocket to close')).code).toBe(1012);
      await within(stream.done, 3000, 'the SSE stream to end');
      expect(stream.state.text).toContain('"code":"SERVICE_RESTART"');
      expect(await lineOf(capture.lines, 'qa-redeploy-ws')).toMatchObject({ status: 101, closeCode: 1012, code: 'SERVICE_RESTART' });
      expect(await lineOf(capture.lines, 'qa-redeploy-sse')).toMatchObject({ status: 200, code: 'SERVICE_RESTART' });
      // A client that leaves is not a code of the gateway's (see the first tests: no code).
      await waitFor(() => exchange.connections.size === 0, 2000, 'both connections to be released');
    } finally {
      capture.stop();
    }
  });

  it('the gateway stopping ends both with GATEWAY_STOPPING (WebSocket 1013): one log line each, nothing left open', async () => {
    const own = await gatewayWith(makeBundle({ streams: api(2000) }), { shutdownGraceMs: 2000 });
    const capture = captureRequestLog();
    try {
      const stream = sseOn(own, 'qa-stopping-sse');
      const socket = connect(wsUrl(own, '/streams/'), { headers: { 'X-Request-Id': 'qa-stopping-ws' } });
      await waitFor(() => stream.state.events >= 1 && socket.messages.length >= 1, 3000, 'both receiving');
      const exchange = own.routers.current!.exchanges.get('streams')!;
      await within(own.close(), 5000, 'the gateway to stop');
      await within(stream.done, 3000, 'the SSE stream to end');
      expect(stream.state.text).toContain('"code":"GATEWAY_STOPPING"');
      expect((await within(socket.closed, 3000, 'the WebSocket to close')).code).toBe(1013);
      expect(await lineOf(capture.lines, 'qa-stopping-sse')).toMatchObject({ status: 200, code: 'GATEWAY_STOPPING' });
      expect(await lineOf(capture.lines, 'qa-stopping-ws')).toMatchObject({ status: 101, code: 'GATEWAY_STOPPING' });
      expect(exchange.connections.size).toBe(0);
    } finally {
      capture.stop();
    }
  });
});
