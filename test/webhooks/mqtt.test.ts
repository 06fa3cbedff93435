/**
 * Webhooks over a real MQTT 5 broker (Mosquitto from test/brokers), messages published with
 * mosquitto_pub: two gateways share one QoS 1 shared subscription (each message delivered once,
 * in order per gateway, through 503 retries); a 400 goes to the dead-letter topic; without one
 * the subscription holds the message in failure (PUBACK withheld) and resume delivers it.
 */
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { promisify } from 'node:util';
import mqtt from 'mqtt';
import { beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '../support/harness.ts';
import { mqttUrl } from '../support/brokers/brokers.ts';
import { acme, connected, until, webhookBundle, webhookRig, type Webhook } from './webhook-rig.ts';

const run = promisify(execFile);
const rig = webhookRig();
let broker: URL;

beforeAll(async () => {
  broker = new URL(await mqttUrl());
});

function bundle(topic: string, webhook: Webhook) {
  return webhookBundle('sensors', { type: 'mqtt', serverHost: broker.hostname, serverPort: Number(broker.port), consumer: { topic, qos: 1 } }, webhook);
}

/** mosquitto_pub, MQTT 5, QoS 1: one message per line, with a user property. */
async function publish(topic: string, lines: string[]): Promise<void> {
  const child = run('mosquitto_pub', ['-h', broker.hostname, '-p', broker.port, '-V', 'mqttv5', '-q', '1', '-t', topic, '-D', 'publish', 'user-property', 'source', 'mosquitto_pub', '-l'], { timeout: 20_000 });
  child.child.stdin!.end(`${lines.join('\n')}\n`);
  await child;
}

const sequence = (n: number) => Array.from({ length: n }, (_, i) => `m${i}`);
const order = (bodies: string[]) => bodies.map((b) => Number(b.slice(1)));

describe('webhooks over MQTT', () => {
  it('two gateways share the subscription: each message delivered once, in order per gateway, through 503s', async () => {
    const topic = `sensors/${randomUUID().slice(0, 8)}`;
    const target = await rig.callbackServer(({ index }) => (index < 3 ? 503 : 200));
    const a = await rig.started(bundle(topic, { callbackUrl: target.url, headers: [{ name: 'X-Gateway', value: 'a' }] }));
    const b = await rig.started(bundle(topic, { callbackUrl: target.url, headers: [{ name: 'X-Gateway', value: 'b' }] }));
    for (const gateway of [a, b]) await until(gateway, connected, 10_000, 'the shared subscription');
    expect((await acme(a))!.consumer!.assignment).toBe(`$share/sluice-webhook-sensors-acme/${topic}`);

    await publish(topic, sequence(100));
    await target.waitForDelivered(100, 30_000);
    const delivered = target.received.filter((r) => r.status === 200);
    expect(new Set(delivered.map((r) => r.body)).size).toBe(100);
    expect(delivered).toHaveLength(100);
    expect(delivered[0]!.headers.source).toBe('mosquitto_pub');
    for (const name of ['a', 'b']) {
      const mine = order(delivered.filter((r) => r.headers['x-gateway'] === name).map((r) => r.body));
      expect(mine.length).toBeGreaterThan(0);
      expect(mine).toEqual([...mine].sort((x, y) => x - y));
    }
    const counts = [(await acme(a))!.delivered, (await acme(b))!.delivered];
    expect(counts[0]! + counts[1]!).toBe(100);
  });

  it('sends a 400 to the dead-letter topic; without one it holds the message in failure until resumed', async () => {
    const topic = `sensors/${randomUUID().slice(0, 8)}`;
    const reader = await mqtt.connectAsync(broker.toString(), { protocolVersion: 5 });
    const letters: { payload: string; properties: Record<string, unknown> }[] = [];
    reader.on('message', (_topic, payload, packet) => letters.push({ payload: payload.toString(), properties: packet.properties?.userProperties ?? {} }));
    await reader.subscribeAsync(`${topic}/dlq`, { qos: 1 });
    try {
      const target = await rig.callbackServer(({ body }) => (body === 'm2' ? 400 : 200));
      const gateway = await rig.started(bundle(topic, { callbackUrl: target.url, deadLetter: { topic: `${topic}/dlq` } }));
      await until(gateway, connected, 10_000, 'the shared subscription');
      await publish(topic, sequence(5));
      await target.waitForDelivered(4, 10_000);
      expect(target.delivered()).toEqual(['m0', 'm1', 'm3', 'm4']);
      await waitFor(() => letters.length === 1, 5_000, 'the dead letter on MQTT');
      expect(letters[0]).toMatchObject({ payload: 'm2', properties: { 'x-sluice-status': '400', 'x-sluice-subscription': 'acme', source: 'mosquitto_pub' } });
    } finally {
      await reader.endAsync();
    }

    await rig.stop();
    let fixed = false;
    const held = await rig.callbackServer(({ body }) => (body === 'm1' && !fixed ? 400 : 200));
    const gateway = await rig.started(bundle(topic, { callbackUrl: held.url }));
    await until(gateway, connected, 10_000, 'the shared subscription');
    await publish(topic, sequence(4));
    await until(gateway, (row) => row.state === 'failure', 10_000, 'state failure');
    expect(held.delivered()).toEqual(['m0']);
    fixed = true;
    expect(await (await fetch(`${gateway.adminUrl}/subscriptions/acme/resume`, { method: 'POST' })).json()).toMatchObject({ resumed: true });
    await held.waitForDelivered(4, 10_000);
    expect(held.delivered()).toEqual(sequence(4));
  });
});
