/**
 * The RabbitMQ rows of the fan-out table (bench/fanout.ts): a RabbitMQ node of the test harness's
 * (test/support/brokers/rabbitmq-broker.ts, or RABBITMQ_URL), one topic exchange per case for the
 * relay (bench/relay.ts --amqp: amqplib, an exclusive queue, acked, prefetch 100) and one for
 * Sluice (a `rabbitmq` endpoint: its exclusive queue, prefetch 100). Messages are published with
 * amqplib (no confirms: a steady offered rate, like MQTT QoS 0), numbered from the run's
 * Publisher so every case has its own sequence range.
 */
import { join } from 'node:path';
import amqp from 'amqplib';
import type { BenchContext } from './context.ts';
import type { Kind } from './cases.ts';
import { api, bundle, streamEntrypoints, writeBundle } from './bundles.ts';
import { fanoutRows, type CasePublisher } from './fanout.ts';
import { startRelay } from './processes.ts';
import { encodePayload } from './payload.ts';
import type { Api } from '../schemas/types.ts';
import { startRabbit, type RabbitBroker } from '../test/support/brokers/rabbitmq-broker.ts';

export async function rabbitmqFanoutSection(ctx: BenchContext): Promise<void> {
  const pairs = (['websocket', 'sse'] as Kind[]).filter((kind) => !ctx.cases || ctx.cases.includes(`rabbitmq-${kind}`));
  if (pairs.length === 0) return;
  ctx.progress('starting RabbitMQ');
  const broker: RabbitBroker | undefined = process.env.RABBITMQ_URL ? undefined : await startRabbit();
  const url = process.env.RABBITMQ_URL ?? broker!.url;
  const connection = await amqp.connect(url);
  try {
    const channel = await connection.createChannel();
    const shared = ctx.publisher;
    const publisher: CasePublisher = {
      get seq() {
        return shared.seq;
      },
      async paced(_broker, exchange, rate, count, until) {
        const lo = shared.seq;
        const interval = 1000 / rate;
        const began = performance.now();
        let sent = 0;
        while (sent < count && !until?.()) {
          const due = Math.min(count, Math.floor((performance.now() - began) / interval) + 1);
          for (; sent < due; sent++) channel.publish(exchange, 'bench', encodePayload(shared.seq++));
          await new Promise((resolve) => setTimeout(resolve, Math.max(1, began + sent * interval - performance.now())));
        }
        return { lo, hi: shared.seq - 1 };
      },
    };
    const { hostname, port } = new URL(url);
    for (const kind of pairs) {
      const tag = `rabbitmq-${kind}`;
      const topics = { sluice: `bench-fanout-sluice-${tag}`, relay: `bench-fanout-relay-${tag}` };
      for (const exchange of Object.values(topics)) await channel.assertExchange(exchange, 'topic', { durable: false });
      const file = join(ctx.work, `fanout-${tag}.json`);
      const endpoint = { type: 'rabbitmq', serverHost: hostname, serverPort: Number(port), consumer: { exchange: topics.sluice, prefetch: 100 } };
      writeBundle(file, bundle([api('stream', { entrypoints: streamEntrypoints, endpoints: [endpoint] as Api['endpoints'] })]));
      await fanoutRows(ctx, { broker: 'rabbitmq', kind, topics, bundleFile: file, relay: () => startRelay({ amqp: url }, topics.relay), publisher });
    }
  } finally {
    await connection.close().catch(() => undefined);
    await broker?.close();
  }
}
