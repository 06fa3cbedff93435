/**
 * The bare baseline for the fan-out benchmark: the broker client plus `ws` / `node:http`, no
 * framework, nothing but relaying. One broker subscription (MQTT topic, Kafka topic, or an exclusive
 * RabbitMQ queue bound to the exchange `--topic` with `#`, acked, prefetch 100 like Sluice's); every
 * message goes to every connected WebSocket (`ws.send`, a text frame) and SSE client (one `data:` frame built
 * once per message, written to each response). Any path; SSE when Accept is text/event-stream.
 *
 *   node bin/run-ts.js bench/relay.ts --port 0 (--mqtt URL --topic T | --kafka HOST:PORT --topic T | --amqp URL --topic EXCHANGE | --nats URL --topic SUBJECT)
 *
 * `GET /bench-stats` answers `{"batches": B, "messages": M}`: Kafka fetch batches processed and the
 * messages in them (kafkajs START_BATCH_PROCESS), for the saturation profile's upstream table.
 *
 * Prints one JSON line `{"listening": PORT}` on stdout once it accepts connections.
 */
import http from 'node:http';
import { parseArgs } from 'node:util';
import { WebSocketServer, type WebSocket } from 'ws';
import mqtt from 'mqtt';
import { Kafka, logLevel } from 'kafkajs';
import amqp from 'amqplib';
import { natsRelaySubscription } from './nats.ts';

const { values: args } = parseArgs({ options: { port: { type: 'string', default: '0' }, mqtt: { type: 'string' }, kafka: { type: 'string' }, amqp: { type: 'string' }, nats: { type: 'string' }, topic: { type: 'string' } } });
if (!args.topic || (!args.mqtt && !args.kafka && !args.amqp && !args.nats)) throw new Error('usage: relay.ts --port P (--mqtt URL | --kafka HOST:PORT | --amqp URL | --nats URL) --topic T');

const sockets = new Set<WebSocket>();
const streams = new Set<http.ServerResponse>();
const SSE_PREFIX = Buffer.from('data: ');
const SSE_SUFFIX = Buffer.from('\n\n');

/** Text frames, like Sluice sends for UTF-8 content: the same bytes on the wire. */
const TEXT = { binary: false };

function relay(payload: Buffer): void {
  for (const ws of sockets) ws.send(payload, TEXT);
  if (streams.size > 0) {
    const frame = Buffer.concat([SSE_PREFIX, payload, SSE_SUFFIX]);
    for (const res of streams) res.write(frame);
  }
}

const fetched = { batches: 0, messages: 0 };

const server = http.createServer((req, res) => {
  if (req.url === '/bench-stats') return void res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify(fetched));
  if (!(req.headers.accept ?? '').includes('text/event-stream')) return void res.writeHead(404).end();
  res.writeHead(200, { 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-cache' });
  res.write('retry: 1000\n\n');
  streams.add(res);
  res.on('close', () => streams.delete(res));
});
const wss = new WebSocketServer({ noServer: true, perMessageDeflate: false, clientTracking: false });
server.on('upgrade', (req, socket, head) => {
  socket.on('error', () => socket.destroy());
  wss.handleUpgrade(req, socket, head, (ws) => {
    sockets.add(ws);
    ws.on('error', () => undefined);
    ws.on('close', () => sockets.delete(ws));
  });
});

if (args.nats) {
  await natsRelaySubscription(args.nats, args.topic, relay);
} else if (args.mqtt) {
  const client = await mqtt.connectAsync(args.mqtt, { protocolVersion: 5, clientId: `bench-relay-${process.pid}` });
  client.on('message', (_topic, payload) => relay(payload));
  await client.subscribeAsync(args.topic, { qos: 0 });
} else if (args.amqp) {
  const channel = await (await amqp.connect(args.amqp)).createChannel();
  await channel.prefetch(100);
  const { queue } = await channel.assertQueue('', { exclusive: true, autoDelete: true });
  await channel.bindQueue(queue, args.topic, '#');
  await channel.consume(queue, (msg) => {
    if (!msg) return;
    relay(msg.content);
    channel.ack(msg);
  });
} else {
  const kafka = new Kafka({ clientId: 'bench-relay', brokers: [args.kafka!], logLevel: logLevel.NOTHING });
  const consumer = kafka.consumer({ groupId: `bench-relay-${process.pid}` });
  consumer.on(consumer.events.START_BATCH_PROCESS, ({ payload }) => {
    fetched.batches++;
    fetched.messages += payload.batchSize;
  });
  await consumer.connect();
  await consumer.subscribe({ topics: [args.topic], fromBeginning: false });
  await consumer.run({ autoCommit: false, eachMessage: async ({ message }) => relay(message.value ?? Buffer.alloc(0)) });
}

server.listen(Number(args.port), '127.0.0.1', () => {
  const address = server.address();
  process.stdout.write(`${JSON.stringify({ listening: typeof address === 'object' && address ? address.port : 0 })}\n`);
});
process.on('SIGTERM', () => process.exit(0));
