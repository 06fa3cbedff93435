/**
 * MQTT 5 end to end against the suite's Mosquitto, with mosquitto_pub / mosquitto_sub processes as
 * the independent clients.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Gateway } from '../../runtime/gateway.ts';
import { gatewayWith, connect, waitFor, type Client } from '../support/harness.ts';
import { makeBundle } from '../support/bundles.ts';
import { mqttUrl } from '../support/brokers/brokers.ts';
import { openSse, sseContent, type SseStream } from '../contract/sse-client.ts';
import { mosquittoPub, mosquittoSub } from './clients.ts';

let url: string;
let gateway: Gateway;
const base = `e2e/${randomUUID().slice(0, 6)}`;
const sseTexts = (s: SseStream) => s.events.filter((e) => e.event.startsWith('message')).map((e) => sseContent(e).toString('utf8'));
const real = (texts: string[]) => texts.filter((t) => !t.startsWith('warmup-'));

beforeAll(async () => {
  url = await mqttUrl();
  const { hostname, port } = new URL(url);
  gateway = await gatewayWith(makeBundle({
    sensors: {
      definition: {
        entrypoints: [{ type: 'sse', heartbeatIntervalInMs: 2000 }, { type: 'websocket' }, { type: 'http-post' }],
        endpoints: [{
          type: 'mqtt',
          serverHost: hostname,
          serverPort: Number(port),
          consumer: { topic: `${base}/readings/+`, qos: 1 },
          producer: { topic: `${base}/commands`, qos: 1 },
        }],
      } as never,
    },
  }));
});

afterAll(async () => {
  await gateway?.close();
});

async function warmUp(ready: () => boolean): Promise<void> {
  for (let i = 0; i < 40; i++) {
    await mosquittoPub(url, `${base}/readings/warmup`, `warmup-${i}`);
    try {
      await waitFor(ready, 500, 'warm-up');
      return;
    } catch {
      // not yet
    }
  }
  throw new Error('the clients never received a warm-up message');
}

describe('mqtt end to end', () => {
  it('mosquitto_pub: WebSocket and SSE clients receive, in order (a Last-Event-ID is ignored, not refused)', async () => {
    // An EventSource reconnecting with its Last-Event-ID must not be refused: MQTT cannot resume, so it is ignored.
    const sse = await openSse(`${gateway.url}/sensors/`, { 'last-event-id': '17' });
    expect(sse.status).toBe(200);
    const ws: Client = connect(`${gateway.url.replace('http', 'ws')}/sensors/`);
    try {
      await ws.opened;
      await warmUp(() => sseTexts(sse).length > 0 && ws.texts().length > 0);
      const readings = ['{"t":20.5}', '{"t":20.7}', '{"t":21.0}'];
      for (const r of readings) await mosquittoPub(url, `${base}/readings/kitchen`, r);
      await sse.until((s) => real(sseTexts(s)).length >= 3, 10_000, 'SSE readings');
      await waitFor(() => real(ws.texts()).length >= 3, 10_000, 'WebSocket readings');
      expect(real(sseTexts(sse))).toEqual(readings);
      expect(real(ws.texts())).toEqual(readings);
    } finally {
      sse.close();
      ws.ws.close();
    }
  });

  it('WebSocket and HTTP POST publishes: mosquitto_sub receives them', async () => {
    const sub = await mosquittoSub(url, `${base}/commands`, 2);
    const ws = connect(`${gateway.url.replace('http', 'ws')}/sensors/`);
    await ws.opened;
    ws.ws.send('{"cmd":"calibrate"}');
    const posted = await fetch(`${gateway.url}/sensors/`, { method: 'POST', body: '{"cmd":"reboot"}' });
    expect(posted.status).toBe(202);
    const messages = await sub.messages;
    ws.ws.close();
    expect(new Set(messages)).toEqual(new Set(['{"cmd":"calibrate"}', '{"cmd":"reboot"}']));
  });
});
