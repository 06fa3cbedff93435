import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll } from 'vitest';
import mqtt, { type MqttClient } from 'mqtt';
import { createMqttEndpoint } from '../../runtime/endpoints/mqtt/mqtt.ts';
import { mqttUrl } from '../support/brokers/brokers.ts';
import { endpointContract, publishedRecords, type Injected } from './endpoint-suite.ts';
import { delivered } from './mqtt-backend.ts';

let url: URL;
let injector: MqttClient;

beforeAll(async () => {
  url = new URL(await mqttUrl());
  injector = await mqtt.connectAsync(url.href, { protocolVersion: 5 });
});
afterAll(async () => {
  await injector?.endAsync();
});

endpointContract({
  name: 'mqtt',
  async create() {
    const id = randomUUID().slice(0, 8);
    const base = `contract/${id}`;
    const endpoint = createMqttEndpoint(
      {
        type: 'mqtt',
        serverHost: url.hostname,
        serverPort: Number(url.port),
        consumer: { topic: `${base}/in/+`, qos: 1 },
        producer: { topic: `${base}/out`, qos: 1 },
      },
      { apiId: `contract-${id}`, instanceId: 'test', resolveSecret: () => '' },
    );
    return {
      endpoint,
      inject: async (messages: readonly Injected[]) => {
        for (const m of messages) {
          await injector.publishAsync(`${base}/in/x`, m.content, { qos: 1, ...(m.headers ? { properties: { userProperties: { ...m.headers } } } : {}) });
        }
      },
      readPublished: async () => {
        const reader = await mqtt.connectAsync(url.href, { protocolVersion: 5 });
        const records = publishedRecords(10_000, 'message');
        reader.on('message', (_topic, payload, packet) => {
          const headers: Record<string, string> = {};
          for (const [k, v] of Object.entries(packet.properties?.userProperties ?? {})) headers[k] = String(v);
          records.push({ content: payload, headers });
        });
        await reader.subscribeAsync(`${base}/out`, { qos: 1 });
        return {
          next: records.next,
          close: () => reader.endAsync(),
        };
      },
      upstreams: async () => ((await delivered(injector, `${base}/in/probe`, 'warmup-probe')) ? 1 : 0),
      dispose: async () => {},
    };
  },
});
