/**
 * Channels fan-out cost (in process, no sockets): CPU per delivered message of the shared fanout
 * with 1,000 clients spread over 100 channels (each client filters by topic: one comparison per
 * client and message) against the same 1,000 clients on one channel. Messages are 256 bytes on
 * topics `sensors/<n>`; clients are channel members (mqttChannel), queues are not drained (sized to
 * hold the run). Prints one JSON line; the ratio is what to watch (absolute numbers vary by machine).
 *
 *   node bin/run-ts.js bench/channels.ts [--messages 2000]
 */
import { setMaxListeners } from 'node:events';
import { parseArgs } from 'node:util';
import { message, type Message } from '../core/message.ts';
import { compileFlow } from '../core/policies/flow.ts';
import { Fanout } from '../runtime/subscribe/fanout.ts';
import type { Endpoint } from '../runtime/endpoints/endpoint.ts';
import { Telemetry } from '../runtime/metrics/telemetry.ts';
import { mqttChannel } from '../runtime/endpoints/mqtt/channel.ts';

const { values } = parseArgs({ options: { messages: { type: 'string', default: '2000' } } });
const MESSAGES = Number(values.messages);
const CLIENTS = 1000;
const payload = Buffer.alloc(256, 'x');

async function run(channels: number): Promise<{ delivered: number; cpuMicros: number }> {
  const messages: Message[] = Array.from({ length: MESSAGES }, (_, i) => message({ id: String(i), content: payload, metadata: { topic: `sensors/d${i % channels}` } }));
  let release!: () => void;
  const go = new Promise<void>((resolve) => (release = resolve));
  const endpoint = {
    type: 'bench', publishes: false, subscribes: true, shared: true, resumable: false,
    start: async () => {}, stop: async () => {}, health: () => ({ healthy: true }), publish: async () => {},
    async *subscribe() {
      await go;
      yield* messages;
    },
  } as unknown as Endpoint;
  const fanout = new Fanout(endpoint, compileFlow(undefined, 'subscribe'), { queueSize: MESSAGES, slowConsumerPolicy: 'disconnect', maxQueuedBytes: 1 << 30 }, 'bench', new Telemetry());
  const abort = new AbortController();
  setMaxListeners(0, abort.signal);
  const queues = Array.from({ length: CLIENTS }, (_, i) => {
    const deviceId = `d${i % channels}`;
    return fanout.attach(abort.signal, undefined, undefined, { ...mqttChannel('sensors/{deviceId}', { deviceId }), context: { request: { params: { deviceId }, query: {} }, caller: { plan: 'bench' } } });
  });
  const before = process.cpuUsage();
  release();
  while (fanout.upstreamActive) await new Promise((resolve) => setImmediate(resolve));
  const used = process.cpuUsage(before);
  const delivered = queues.reduce((sum, queue) => sum + queue.highWater, 0);
  abort.abort();
  return { delivered, cpuMicros: used.user + used.system };
}

await run(10); // warm the JIT
const one = await run(1);
const hundred = await run(100);
const per = (r: { delivered: number; cpuMicros: number }) => r.cpuMicros / r.delivered;
process.stdout.write(`${JSON.stringify({
  case: 'channels-fanout', clients: CLIENTS, messages: MESSAGES,
  oneChannel: { delivered: one.delivered, cpuMicrosPerDelivered: Number(per(one).toFixed(4)) },
  hundredChannels: { delivered: hundred.delivered, cpuMicrosPerDelivered: Number(per(hundred).toFixed(4)) },
  ratio: Number((per(hundred) / per(one)).toFixed(2)),
})}\n`);
