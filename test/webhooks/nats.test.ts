/**
 * Webhooks over NATS JetStream (the suite's nats-server), messages published by an independent
 * nats.js process: a durable pull consumer shared by two gateways (each message delivered once, in
 * stream order, through 503 retries); the acknowledgement follows the callback's 2xx (the server's
 * ack floor stays below a message while its callback answers 503, and a gateway that stops then
 * hands it to the next one); a 400 goes to the dead-letter subject, stored by a stream.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect as natsConnect, type NatsConnection } from '@nats-io/transport-node';
import { jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import { natsServer } from '../support/brokers/brokers.ts';
import { natsPub } from '../brokers-e2e/clients.ts';
import { connected, until, webhookBundle, webhookRig, type Webhook } from './webhook-rig.ts';

const rig = webhookRig();
let server: { url: string; monitor: string };
let nc: NatsConnection;
let jsm: JetStreamManager;
const streams: string[] = [];

beforeAll(async () => {
  server = await natsServer();
  nc = await natsConnect({ servers: server.url });
  jsm = await jetstreamManager(nc);
});
afterAll(async () => {
  for (const stream of streams) await jsm.streams.delete(stream).catch(() => {});
  await nc?.close();
});

async function freshStream(): Promise<{ stream: string; base: string }> {
  const id = randomUUID().slice(0, 8);
  const stream = `HOOKS_${id}`;
  await jsm.streams.add({ name: stream, subjects: [`hooks.${id}.>`] });
  streams.push(stream);
  return { stream, base: `hooks.${id}` };
}

function bundle(stream: string, base: string, webhook: Webhook) {
  return webhookBundle('orders', { type: 'nats', servers: [server.url], stream, consumer: { subject: `${base}.orders.*` } }, webhook, 1000);
}

const sequence = (n: number) => Array.from({ length: n }, (_, i) => `m${i}`);

describe('webhooks over NATS JetStream', () => {
  it('two gateways share one durable consumer: each message once, in stream order, through 503s', { timeout: 60_000 }, async () => {
    const { stream, base } = await freshStream();
    const target = await rig.callbackServer(({ index }) => (index < 3 ? 503 : 200));
    const a = await rig.started(bundle(stream, base, { callbackUrl: target.url, headers: [{ name: 'X-Gateway', value: 'a' }] }));
    const b = await rig.started(bundle(stream, base, { callbackUrl: target.url, headers: [{ name: 'X-Gateway', value: 'b' }] }));
    for (const gateway of [a, b]) await until(gateway, connected, 15_000, 'the durable consumer');
    expect((await until(a, connected, 1000, 'assignment')).consumer!.assignment).toBe(`${stream}>sluice-webhook-orders-acme`);

    await natsPub(server.url, `${base}.orders.eu`, sequence(60), { jetstream: true, headers: { source: 'nats.js' } });
    await target.waitForDelivered(60, 30_000);
    const delivered = target.received.filter((r) => r.status === 200);
    expect(delivered.map((r) => r.body)).toEqual(sequence(60));
    expect(delivered[0]!.headers.source).toBe('nats.js');
    // The acknowledgement follows the 2xx the callback server recorded: wait for the server to have it.
    for (let i = 0; (await jsm.consumers.info(stream, 'sluice-webhook-orders-acme')).ack_floor.stream_seq < 60; i++) {
      if (i > 100) throw new Error('the last 2xx was never acknowledged');
      await new Promise((r) => setTimeout(r, 50));
    }
    expect((await jsm.consumers.info(stream, 'sluice-webhook-orders-acme')).num_ack_pending).toBe(0);
  });

  it('acknowledges only after a 2xx: a stopped gateway leaves the message to the next one', { timeout: 60_000 }, async () => {
    const { stream, base } = await freshStream();
    const refusing = await rig.callbackServer(() => 503);
    const first = await rig.started(bundle(stream, base, { callbackUrl: refusing.url }));
    await until(first, connected, 15_000, 'the durable consumer');
    const [seq] = await natsPub(server.url, `${base}.orders.eu`, ['held'], { jetstream: true });
    for (let i = 0; refusing.received.length < 3; i++) {
      if (i > 500) throw new Error('the callback was not retried');
      await new Promise((r) => setTimeout(r, 20));
    }
    const held = await jsm.consumers.info(stream, 'sluice-webhook-orders-acme');
    expect(held.ack_floor.stream_seq).toBeLessThan(seq!);
    expect(held.num_ack_pending).toBe(1);
    await rig.stop(first);

    const accepting = await rig.callbackServer(() => 200);
    await rig.started(bundle(stream, base, { callbackUrl: accepting.url }));
    await accepting.waitForDelivered(1, 10_000); // given back (nak) at stop: no wait for the ack timeout
    expect(accepting.delivered()).toEqual(['held']);
    for (let i = 0; (await jsm.consumers.info(stream, 'sluice-webhook-orders-acme')).ack_floor.stream_seq < seq!; i++) {
      if (i > 100) throw new Error('the 2xx was never acknowledged');
      await new Promise((r) => setTimeout(r, 50));
    }
  });

  it('a 400 goes to the dead-letter subject, stored by a stream, and the next message follows', { timeout: 60_000 }, async () => {
    const { stream, base } = await freshStream();
    const dlq = await freshStream();
    const target = await rig.callbackServer(({ body }) => (body === 'm1' ? 400 : 200));
    const gateway = await rig.started(bundle(stream, base, { callbackUrl: target.url, deadLetter: { topic: `${dlq.base}.dead` } }));
    await until(gateway, connected, 15_000, 'the durable consumer');
    await natsPub(server.url, `${base}.orders.eu`, sequence(3), { jetstream: true, headers: { source: 'nats.js' } });
    await target.waitForDelivered(2, 15_000);
    expect(target.delivered()).toEqual(['m0', 'm2']);
    await until(gateway, (row) => row.deadLettered === 1, 10_000, 'one dead letter');
    const letter = await jsm.streams.getMessage(dlq.stream, { last_by_subj: `${dlq.base}.dead` });
    expect(letter!.string()).toBe('m1');
    expect(letter!.header.get('source')).toBe('nats.js');
  });
});
