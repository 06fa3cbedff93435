/**
 * RabbitMQ end to end on a dedicated broker (its own node, stopped and started mid-test), with
 * amqplib in separate processes as the independent clients (./amqp-cli.ts) and the broker's own
 * `rabbitmqctl list_queues` as the witness of upstream queues.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import amqp from 'amqplib';
import type { Gateway } from '../../runtime/gateway.ts';
import { gatewayWith, connect, waitFor } from '../support/harness.ts';
import { makeBundle } from '../support/bundles.ts';
import { startRabbit, type RabbitBroker } from '../support/brokers/rabbitmq-broker.ts';
import { openSse, sseContent, type SseStream } from '../contract/sse-client.ts';
import { amqpConsume, amqpPublish } from './clients.ts';

let broker: RabbitBroker;
let gateway: Gateway;
const texts = (s: SseStream) => s.events.filter((e) => e.event.startsWith('message')).map((e) => sseContent(e).toString('utf8'));
const real = (list: string[]) => list.filter((t) => !t.startsWith('warmup-'));

beforeAll(async () => {
  broker = await startRabbit();
  const admin = await amqp.connect(broker.url);
  const channel = await admin.createChannel();
  await channel.assertExchange('orders', 'topic', { durable: true });
  await channel.assertExchange('commands', 'topic', { durable: true });
  await channel.assertQueue('commands-audit', { durable: true });
  await channel.bindQueue('commands-audit', 'commands', 'cmd.#');
  await admin.close();
  gateway = await gatewayWith(makeBundle({
    orders: {
      definition: {
        entrypoints: [{ type: 'sse', heartbeatIntervalInMs: 2000 }, { type: 'websocket' }, { type: 'http-post', requestHeadersToMessage: true }],
        endpoints: [{
          type: 'rabbitmq',
          serverHost: '127.0.0.1',
          serverPort: broker.port,
          consumer: { exchange: 'orders', bindingKey: 'orders.#' },
          producer: { exchange: 'commands', routingKey: 'cmd.{header.x-kind}' },
        }],
      } as never,
    },
    tracks: {
      definition: {
        contextPaths: ['/tracks/{carrier}'],
        entrypoints: [{ type: 'sse', heartbeatIntervalInMs: 2000 }, { type: 'http-post' }],
        endpoints: [{
          type: 'rabbitmq',
          serverHost: '127.0.0.1',
          serverPort: broker.port,
          consumer: { exchange: 'orders', bindingKey: 'tracks.{carrier}' },
          producer: { exchange: 'commands', routingKey: 'cmd.{carrier}' },
        }],
      } as never,
    },
  }));
}, 120_000);

afterAll(async () => {
  await gateway?.close();
  await broker?.close();
});

/** Our upstream queues as the broker lists them: name and consumer count. */
async function upstreamQueues(): Promise<Array<{ name: string; consumers: number }>> {
  const out = await broker.ctl('list_queues', 'name', 'consumers');
  return out.split('\n').map((l) => l.trim().split(/\s+/)).filter(([name]) => name?.startsWith('sluice.')).map(([name, n]) => ({ name: name!, consumers: Number(n) }));
}

async function warmUp(ready: () => boolean): Promise<void> {
  for (let i = 0; i < 40; i++) {
    await amqpPublish(broker.url, 'orders', 'orders.warmup', `warmup-${i}`);
    try {
      return await waitFor(ready, 500, 'warm-up');
    } catch {
      // not yet
    }
  }
  throw new Error('the clients never received a warm-up message');
}

async function post(body: string, kind: string): Promise<number> {
  const res = await fetch(`${gateway.url}/orders/`, { method: 'POST', body, headers: { 'x-kind': kind } });
  await res.text();
  return res.status;
}

describe('rabbitmq end to end', () => {
  it('an outside publisher reaches SSE and WebSocket clients in order, through ONE upstream queue per API (rabbitmqctl list_queues)', { timeout: 90_000 }, async () => {
    const sse1 = await openSse(`${gateway.url}/orders/`);
    const sse2 = await openSse(`${gateway.url}/orders/`);
    const ws = connect(`${gateway.url.replace('http', 'ws')}/orders/`);
    try {
      await ws.opened;
      await warmUp(() => texts(sse1).length > 0 && texts(sse2).length > 0 && ws.texts().length > 0);
      const queues = await upstreamQueues();
      expect(queues).toHaveLength(1);
      expect(queues[0]!.consumers).toBe(1);
      const orders = ['{"id":1}', '{"id":2}', '{"id":3}'];
      for (const o of orders) await amqpPublish(broker.url, 'orders', 'orders.eu', o, { 'x-trace': 't1' });
      await amqpPublish(broker.url, 'orders', 'invoices.eu', 'not bound');
      for (const sse of [sse1, sse2]) await sse.until((s) => real(texts(s)).length >= 3, 10_000, 'SSE orders');
      await waitFor(() => real(ws.texts()).length >= 3, 10_000, 'WebSocket orders');
      expect(real(texts(sse1))).toEqual(orders);
      expect(real(texts(sse2))).toEqual(orders);
      expect(real(ws.texts())).toEqual(orders);
    } finally {
      sse1.close();
      sse2.close();
      ws.ws.close();
    }
    // The last client gone, the exclusive auto-delete queue is gone from the broker too.
    for (let i = 0; (await upstreamQueues()).length > 0; i++) {
      if (i > 40) throw new Error(`upstream queue left behind: ${JSON.stringify(await upstreamQueues())}`);
      await new Promise((r) => setTimeout(r, 250));
    }
  });

  it('HTTP POST answers 202 after the confirm; an outside consumer gets the message with its headers and routing key', { timeout: 60_000 }, async () => {
    expect(await post('{"cmd":"ship"}', 'ship')).toBe(202);
    const [got] = await amqpConsume(broker.url, 'commands-audit', 1);
    expect(got).toMatchObject({ content: '{"cmd":"ship"}', routingKey: 'cmd.ship' });
    expect(got!.headers['x-kind']).toBe('ship');
  });

  it('broker stopped mid-stream: POST 503, readyz names it; started again: the same SSE stream resumes and nothing confirmed is lost', { timeout: 180_000 }, async () => {
    const sse = await openSse(`${gateway.url}/orders/`);
    try {
      await warmUp(() => texts(sse).length > 0);
      const accepted: string[] = [];
      for (let i = 0; i < 5; i++) {
        expect(await post(`before-${i}`, 'outage')).toBe(202);
        accepted.push(`before-${i}`);
      }
      await broker.stop();
      let status = await post('while-down', 'outage');
      for (let i = 0; status !== 503 && i < 30; i++) {
        if (status === 202) accepted.push('while-down');
        await new Promise((r) => setTimeout(r, 100));
        status = await post('while-down', 'outage');
      }
      expect(status).toBe(503);
      const down = await fetch(`${gateway.adminUrl}/readyz?strict=1`);
      expect(down.status).toBe(503);
      expect(await down.text()).toContain('rabbitmq');

      await broker.start();
      for (let i = 0; (await fetch(`${gateway.adminUrl}/readyz?strict=1`)).status !== 200; i++) {
        if (i > 120) throw new Error('gateway not ready again');
        await new Promise((r) => setTimeout(r, 250));
      }
      // The SSE stream stayed open: messages published after the restart reach it.
      for (let i = 0; !texts(sse).includes('after-restart'); i++) {
        if (i > 40) throw new Error(`the SSE stream never resumed:\n${sse.raw()}`);
        await amqpPublish(broker.url, 'orders', 'orders.eu', 'after-restart');
        await sse.until((s) => texts(s).includes('after-restart'), 500, 'resumed').catch(() => {});
      }
      expect(sse.events.some((e) => e.event === 'error')).toBe(false);
      // Every message answered 202 before the outage was persisted: the durable queue still holds them.
      expect(await post('after', 'outage')).toBe(202);
      accepted.push('after');
      const got = await amqpConsume(broker.url, 'commands-audit', accepted.length);
      expect(got.map((m) => m.content)).toEqual(accepted);
    } finally {
      sse.close();
    }
  });

  it('channels: /tracks/{carrier} binds tracks.* once; each client gets its carrier only; a POST goes to cmd.<carrier>', { timeout: 90_000 }, async () => {
    const dhl = await openSse(`${gateway.url}/tracks/dhl`);
    const ups = await openSse(`${gateway.url}/tracks/ups`);
    try {
      for (let i = 0; texts(dhl).length === 0 || texts(ups).length === 0; i++) {
        if (i > 40) throw new Error('the channel clients never received a warm-up message');
        for (const carrier of ['dhl', 'ups']) await amqpPublish(broker.url, 'orders', `tracks.${carrier}`, `warmup-${carrier}-${i}`);
        await waitFor(() => texts(dhl).length > 0 && texts(ups).length > 0, 500, 'warm-up').catch(() => {});
      }
      const queues = await upstreamQueues();
      expect(queues).toHaveLength(1);
      for (const [carrier, n] of [['dhl', 1], ['ups', 1], ['dhl', 2]] as const) await amqpPublish(broker.url, 'orders', `tracks.${carrier}`, `${carrier}-${n}`);
      await dhl.until((s) => real(texts(s)).length >= 2, 10_000, 'dhl tracks');
      await ups.until((s) => real(texts(s)).length >= 1, 10_000, 'ups tracks');
      expect(real(texts(dhl))).toEqual(['dhl-1', 'dhl-2']);
      expect(real(texts(ups))).toEqual(['ups-1']);
      expect(texts(dhl).some((t) => t.includes('ups'))).toBe(false);
    } finally {
      dhl.close();
      ups.close();
    }
    const res = await fetch(`${gateway.url}/tracks/ups`, { method: 'POST', body: 'pickup' });
    expect(res.status).toBe(202);
    const [got] = await amqpConsume(broker.url, 'commands-audit', 1);
    expect(got).toMatchObject({ content: 'pickup', routingKey: 'cmd.ups' });
  });
});
