/**
 * The entrypoint contract suite over the suite's real nats-server (./entrypoint-backend.ts), in
 * its two modes: core subjects (`nats core`, not resumable) and a JetStream stream per API
 * (`nats JetStream`, resumable: cursors are stream sequences). Each run gets its own subjects
 * `entrypoints.<run>.<api>.in.*` / `.out` (and streams `EP_<run>_<api>`); `down` points at a
 * loopback port nothing listens on. What the server says is open: its monitoring `/connz?subs=1`
 * (core subscriptions) and the stream's consumer listing (JetStream).
 */
import { randomUUID } from 'node:crypto';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { jetstream, jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import { natsServer } from '../support/brokers/brokers.ts';
import { loopbackPort } from '../support/brokers/loopback-port.ts';
import { contentOf, pollUntil, type ApiKind, type EntrypointBackend } from './entrypoint-backend.ts';

/** Subscriptions the server lists on `subject` (monitoring /connz?subs=1), of the connection named `connectionName` if given. */
export async function serverSubscriptions(monitor: string, subject: string, connectionName?: string): Promise<number> {
  const connz = (await (await fetch(`${monitor}/connz?subs=1&limit=1024`)).json()) as { connections?: Array<{ name?: string; subscriptions_list?: string[] }> };
  return (connz.connections ?? [])
    .filter((c) => connectionName === undefined || c.name === connectionName)
    .reduce((n, c) => n + (c.subscriptions_list ?? []).filter((s) => s === subject).length, 0);
}

/** Consumers the server lists on `stream` (ordered consumers are ephemeral ones). */
export async function streamConsumers(manager: JetStreamManager, stream: string): Promise<number> {
  return (await manager.consumers.list(stream).next()).length;
}

const KINDS: readonly ApiKind[] = ['text', 'bin', 'slow', 'down'];

export function natsBackend(mode: 'core' | 'stream'): EntrypointBackend {
  return {
    name: mode === 'core' ? 'nats core' : 'nats JetStream',
    resumes: mode === 'stream',
    async start() {
      const server = await natsServer();
      const nc: NatsConnection = await connect({ servers: server.url });
      const jsm = await jetstreamManager(nc);
      const closedPort = await loopbackPort();
      const run = randomUUID().slice(0, 8);
      const subject = (kind: ApiKind, side: 'in' | 'out') => `entrypoints.${run}.${kind}.${side}`;
      const stream = (kind: ApiKind) => `EP_${run}_${kind}`;
      if (mode === 'stream') for (const kind of KINDS) await jsm.streams.add({ name: stream(kind), subjects: [`entrypoints.${run}.${kind}.>`] });
      const upstreams = (kind: ApiKind) => (mode === 'stream' ? streamConsumers(jsm, stream(kind)) : serverSubscriptions(server.monitor, `${subject(kind, 'in')}.*`));
      /** Stream sequences of the last injection, by API. */
      const sequences = new Map<ApiKind, number[]>();
      return {
        endpoints: (kind) => [{
          type: 'nats',
          servers: [kind === 'down' ? `nats://127.0.0.1:${closedPort}` : server.url],
          ...(mode === 'stream' ? { stream: stream(kind) } : {}),
          consumer: { subject: `${subject(kind, 'in')}.*` },
          producer: { subject: subject(kind, 'out') },
        }],
        async inject(kind, count) {
          // Core NATS delivers to present subscribers only, and a stream subscription reads from its start: wait for it.
          await pollUntil(async () => (await upstreams(kind)) > 0, 5_000, `a subscription on ${subject(kind, 'in')}.*`);
          if (mode === 'core') {
            for (let i = 0; i < count; i++) nc.publish(`${subject(kind, 'in')}.x`, contentOf(kind, i));
            return void (await nc.flush());
          }
          const js = jetstream(nc);
          const acks: number[] = [];
          for (let i = 0; i < count; i++) acks.push((await js.publish(`${subject(kind, 'in')}.x`, contentOf(kind, i))).seq);
          sequences.set(kind, acks);
        },
        upstreams,
        ...(mode === 'stream' ? {
          cursorOf(kind: ApiKind, index: number) {
            const seq = sequences.get(kind)?.[index];
            if (seq === undefined) throw new Error(`message ${index} of ${kind} was not injected`);
            return String(seq);
          },
        } : {}),
        async watchPublished(kind) {
          const received: Buffer[] = [];
          const sub = nc.subscribe(subject(kind, 'out'), { callback: (_error, msg) => void received.push(Buffer.from(msg.data)) });
          await nc.flush();
          return { received: () => received, close: async () => sub.unsubscribe() };
        },
        async close() {
          if (mode === 'stream') for (const kind of KINDS) await jsm.streams.delete(stream(kind)).catch(() => {});
          await nc.close();
        },
      };
    },
  };
}
