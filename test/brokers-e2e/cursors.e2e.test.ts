/**
 * Cursors as a WebSocket client and a generic long-poll client meet them, with independent
 * broker clients (kcat, mosquitto_pub):
 * - `messageEnvelope` WebSocket frames carry each message's id, content, headers and metadata, so a
 *   WebSocket client resumes with `?cursor=<id>` on its own (no SSE or HTTP GET needed);
 * - an MQTT API cannot replay: a cursor is ignored on every entrypoint (was 400 for HTTP GET and
 *   WebSocket while SSE ignored it), so a client that always resumes works against any API.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Gateway } from '../../runtime/gateway.ts';
import { gatewayWith, connect, waitFor, wsUrl } from '../support/harness.ts';
import { makeBundle } from '../support/bundles.ts';
import { kafkaBootstrap, mqttUrl } from '../support/brokers/brokers.ts';
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
    enveloped: {
      definition: {
        entrypoints: [{ type: 'websocket', publisher: false, messageEnvelope: true }],
        endpoints: [{ type: 'kafka', bootstrapServers: [bootstrap], consumer: { topics: [topic] } }],
      } as never,
    },
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
  it('messageEnvelope: each frame carries id, content, headers and metadata; ?cursor=<id> resumes with exactly what followed', { timeout: 60_000 }, async () => {
    const first = connect(wsUrl(gateway, '/enveloped/'));
    await first.opened;
    await kcatProduce(bootstrap, topic, ['k1:one', 'k2:two'], { keyed: true, headers: { 'x-source': 'kcat' } });
    await waitFor(() => first.messages.length >= 2, 15_000, 'two envelope frames');
    const [one, two] = envelopes(first);
    expect(one).toMatchObject({ content: 'one', headers: { 'x-source': 'kcat' }, metadata: { topic, partition: 0, offset: '0', key: 'k1' } });
    expect(two).toMatchObject({ content: 'two', metadata: { offset: '1', key: 'k2' } });
    expect(one!.contentEncoding).toBeUndefined();
    expect(Buffer.from(two!.id, 'base64url').toString()).toBe(`${topic}@0#1`);
    first.ws.close();
    await first.closed;

    // While no client is connected: three more, one of them not UTF-8.
    const bytes = Buffer.from([0xff, 0xfe, 0x00, 0x01]);
    await kcatProduce(bootstrap, topic, ['three', 'four']);
    const dir = mkdtempSync(join(tmpdir(), 'cursors-'));
    writeFileSync(join(dir, 'bytes'), bytes);
    await kcatProduceFile(bootstrap, topic, join(dir, 'bytes'));
    rmSync(dir, { recursive: true, force: true });
    const resumed = connect(wsUrl(gateway, `/enveloped/?cursor=${two!.id}`));
    await resumed.opened;
    await waitFor(() => resumed.messages.length >= 3, 15_000, 'the three messages after the cursor');
    const after = envelopes(resumed);
    expect(after.map((e) => e.content).slice(0, 2)).toEqual(['three', 'four']);
    expect(after[2]).toMatchObject({ contentEncoding: 'base64' });
    expect(Buffer.from(after[2]!.content, 'base64').equals(bytes)).toBe(true);
    resumed.ws.close();
  });

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
