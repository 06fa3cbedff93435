/**
 * The entrypoint contract suite over the suite's real Mosquitto (./entrypoint-backend.ts): each
 * run gets its own topics `entrypoints/<run>/<api>/in/+` and `.../out`; `down` points at a
 * loopback port nothing listens on. Not resumable.
 *
 * Whether an API's upstream subscription is open is what the broker answers a QoS 1 publish to
 * it: MQTT 5 PUBACK reason 16 "No matching subscribers" exactly when none (`delivered`). A probe
 * that finds a subscriber reaches it: injection uses its first message as the probe (nothing is
 * delivered before it), and the release test sees at most one probe on its `slow` API.
 */
import { randomUUID } from 'node:crypto';
import mqtt, { type MqttClient } from 'mqtt';
import { mqttUrl } from '../support/brokers/brokers.ts';
import { loopbackPort } from '../support/brokers/loopback-port.ts';
import { contentOf, pollUntil, type ApiKind, type EntrypointBackend } from './entrypoint-backend.ts';

/** Publishes `payload` to `topic` at QoS 1: whether the broker had a matching subscriber (PUBACK reason is not 16). */
export async function delivered(client: MqttClient, topic: string, payload: Buffer | string): Promise<boolean> {
  const reason = new Promise<number>((resolve) => {
    const onPacket = (packet: { cmd: string; reasonCode?: number }) => {
      if (packet.cmd !== 'puback') return;
      client.off('packetreceive', onPacket);
      resolve(packet.reasonCode ?? 0);
    };
    client.on('packetreceive', onPacket);
  });
  await client.publishAsync(topic, payload, { qos: 1 });
  return (await reason) !== 16;
}

export function mqttBackend(): EntrypointBackend {
  return {
    name: 'mqtt',
    resumes: false,
    async start() {
      const url = new URL(await mqttUrl());
      const client = await mqtt.connectAsync(url.href, { protocolVersion: 5 });
      const closedPort = await loopbackPort();
      const run = randomUUID().slice(0, 8);
      const topic = (kind: ApiKind, side: 'in' | 'out') => `entrypoints/${run}/${kind}/${side}`;
      return {
        endpoints: (kind) => [{
          type: 'mqtt',
          serverHost: url.hostname,
          serverPort: kind === 'down' ? closedPort : Number(url.port),
          consumer: { topic: `${topic(kind, 'in')}/+`, qos: 1 },
          producer: { topic: topic(kind, 'out'), qos: 1 },
        }],
        async inject(kind, count) {
          // The broker drops what finds no subscriber: message 0 again until it is delivered, then the rest in order.
          await pollUntil(() => delivered(client, `${topic(kind, 'in')}/x`, contentOf(kind, 0)), 5_000, `a subscriber on ${topic(kind, 'in')}/+`);
          for (let i = 1; i < count; i++) await client.publishAsync(`${topic(kind, 'in')}/x`, contentOf(kind, i), { qos: 1 });
        },
        upstreams: async (kind) => ((await delivered(client, `${topic(kind, 'in')}/probe`, 'probe')) ? 1 : 0),
        async watchPublished(kind) {
          const reader = await mqtt.connectAsync(url.href, { protocolVersion: 5 });
          const received: Buffer[] = [];
          reader.on('message', (_topic, payload) => received.push(payload));
          await reader.subscribeAsync(topic(kind, 'out'), { qos: 1 });
          return { received: () => received, close: () => reader.endAsync() };
        },
        close: () => client.endAsync(),
      };
    },
  };
}
