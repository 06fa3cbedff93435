/**
 * Cursors as a WebSocket client and a generic long-poll client meet them, with independent
 * broker clients (mosquitto_pub):
 * - an MQTT API cannot replay: a cursor is ignored on every entrypoint (was 400 for HTTP GET and
 *   WebSocket while SSE ignored it), so a client that always resumes works against any API.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Gateway } from '../../runtime/gateway.ts';
import { gatewayWith, connect, waitFor, wsUrl } from '../runtime/harness.ts';
import { makeBundle } from '../runtime/bundles.ts';
import { kafkaBootstrap, mqttUrl } from '../brokers/brokers.ts';
import { kcatProduce, kcatProduceFile, mosquittoPub } from './clients.ts';

const run = randomUUID().slice(0, 6);
const topic = `cursors-${run}`;
const mqttBase = `cursors/${run}`;
let bootstrap: string;
let gateway: Gateway;

interface Envelope {
  id: string;
  content: string;
  contentEncoding?: string;
  headers: Record<string, string>;
  metadata: Record<string, unknown>;
}

beforeAll(async () => {
  bootstrap = await kafkaBootstrap();
  const { hostname, port } = new URL(await mqttUrl());
  gateway = await gatewayWith(makeBundle({
    readings: {
      definition: {
        entrypoints: [{ type: 'websocket', publisher: false }, { type: 'http-get', messagesLimitCount: 1, messagesLimitDurationMs: 10_000 }],
        endpoints: [{ type: 'mqtt', serverHost: hostname, serverPort: Number(port), consumer: { topic: `${mqttBase}/#`, qos: 1 } }],
      } as never,
    },
  }));
});
afterAll(() => gateway?.close());

const envelopes = (client: ReturnType<typeof connect>) => client.messages.map((m) => {
  expect(m.binary).toBe(false);
  return JSON.parse(m.data.toString('utf8')) as Envelope;
});

describe('cursors end to end', () => {
  it('MQTT: a cursor is ignored on WebSocket and HTTP GET (no 400), the client gets what is published from then on', { timeout: 60_000 }, async () => {
    const ws = connect(wsUrl(gateway, '/readings/?cursor=17'));
    await ws.opened;
    let answered = false;
    const poll = fetch(`${gateway.url}/readings/?cursor=3`, { headers: { accept: 'application/json' } }).finally(() => (answered = true));
    // Readings until both have one (each subscription is live from some reading on).
    for (let i = 0; i < 40 && (ws.messages.length === 0 || !answered); i++) {
      await mosquittoPub(await mqttUrl(), `${mqttBase}/kitchen`, `{"t":${i}}`);
      await waitFor(() => ws.messages.length > 0 && answered, 500, 'a reading').catch(() => undefined);
    }
    expect(ws.messages.length).toBeGreaterThan(0);
    const answer = await poll;
    expect(answer.status).toBe(200);
    const body = (await answer.json()) as { items: { content: string }[] };
    expect(body.items[0]!.content).toMatch(/^\{"t":\d+\}$/);
    ws.ws.close();
  });
});
