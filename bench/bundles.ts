/**
 * Bundles the benchmark serves, written as files for `sluice serve --bundle` (temp file + rename,
 * as the compiler writes them, so the watcher never reads half a file). Keyless plans: the
 * benchmark measures the message path, not authentication.
 */
import { renameSync, writeFileSync } from 'node:fs';
import type { Api, Bundle, BundleApi } from '../schemas/types.ts';
import { bundleId } from '../core/canonical-json.ts';

export interface Brokers {
  /** host:port */
  readonly kafka: string;
  /** mqtt://host:port */
  readonly mqtt: string;
  /** nats://host:port */
  readonly nats?: string;
}

const open = { open: { type: 'keyless', name: 'Open', status: 'published' } } as const;

export function api(id: string, definition: Partial<Api>): BundleApi {
  return { id, definition: { name: id, contextPaths: [`/${id}/`], ...definition } as Api, plans: open, subscriptions: {} } as BundleApi;
}

export function bundle(apis: BundleApi[]): Bundle {
  const content = { formatVersion: 1 as const, apis: Object.fromEntries(apis.map((a) => [a.id, a])) };
  return { ...content, id: bundleId(content), createdAt: new Date().toISOString(), source: { kind: 'folder', compilerVersion: 'bench' } } as Bundle;
}

export function writeBundle(file: string, value: Bundle): void {
  writeFileSync(`${file}.tmp`, JSON.stringify(value));
  renameSync(`${file}.tmp`, file);
}

export const streamEntrypoints = [{ type: 'websocket', publisher: false }, { type: 'sse', heartbeatIntervalInMs: 5000 }] as Api['entrypoints'];

/** A WebSocket + SSE API over an MQTT topic (QoS 0), a Kafka topic or a NATS core subject. */
export function streamApi(id: string, brokers: Brokers, broker: 'mqtt' | 'kafka' | 'nats', topic: string): BundleApi {
  const [host, port] = brokers.mqtt.replace('mqtt://', '').split(':');
  return api(id, {
    entrypoints: streamEntrypoints,
    endpoints: [broker === 'nats'
      ? { type: 'nats', servers: [brokers.nats!], consumer: { subject: topic } }
      : broker === 'mqtt'
      ? { type: 'mqtt', serverHost: host!, serverPort: Number(port), consumer: { topic, qos: 0 } }
      : { type: 'kafka', bootstrapServers: [brokers.kafka], consumer: { topics: [topic] } }] as Api['endpoints'],
  });
}

/** HTTP POST and WebSocket publish to a Kafka topic. */
export function publishApi(id: string, brokers: Brokers, topic: string): BundleApi {
  return api(id, {
    entrypoints: [{ type: 'http-post' }, { type: 'websocket', publisher: true, subscriber: false }] as Api['entrypoints'],
    endpoints: [{ type: 'kafka', bootstrapServers: [brokers.kafka], producer: { topic } }] as Api['endpoints'],
  });
}

/** A mock API whose content changes with `version`: what each swap deploys. */
export function changingApi(id: string, version: number): BundleApi {
  return api(id, { entrypoints: [{ type: 'http-get' }] as Api['entrypoints'], endpoints: [{ type: 'mock', messageInterval: 1000, messageContent: `version ${version}` }] as Api['endpoints'] });
}
