/**
 * Environments end to end: one APIs folder, two overlays pointing the same API at two real Kafka
 * brokers (the suite's and one started here), each compiled and released (`a/v1`, `b/v1`) into its
 * own store and served by its own gateway following that store. Records produced on broker A reach
 * only gateway A's clients, records on broker B only gateway B's.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { Kafka, logLevel } from 'kafkajs';
import { compileFolder } from '../../compiler/compile.ts';
import { Store } from '../../compiler/store.ts';
import { startGateway, type Gateway } from '../../runtime/gateway.ts';
import { storeSource } from '../../runtime/sources/store.ts';
import { setLogLevel } from '../../runtime/log.ts';
import { connect, waitFor, type Client } from '../support/harness.ts';
import { kafkaBootstrap } from '../support/brokers/brokers.ts';
import { startKafka, type KafkaBroker } from '../support/brokers/kafka-broker.ts';
import { kcatProduce } from './clients.ts';

setLogLevel(process.env.ENV_E2E_LOG ?? 'silent');
const topic = `env-readings-${randomUUID().slice(0, 6)}`;
const work = mkdtempSync(join(tmpdir(), 'sluice-env-e2e-'));
let brokerB: KafkaBroker;
const bootstrap: Record<'a' | 'b', string> = { a: '', b: '' };
const gateways: Partial<Record<'a' | 'b', Gateway>> = {};

const write = (path: string, value: unknown) => {
  mkdirSync(join(work, path, '..'), { recursive: true });
  writeFileSync(join(work, path), `${JSON.stringify(value, null, 2)}\n`);
};
const kafkaEndpoint = (server: string) => [{ type: 'kafka', bootstrapServers: [server], consumer: { topics: [topic] } }];

beforeAll(async () => {
  [bootstrap.a, brokerB] = await Promise.all([kafkaBootstrap(), startKafka()]);
  bootstrap.b = brokerB.bootstrap;
  for (const server of [bootstrap.a, bootstrap.b]) {
    const admin = new Kafka({ clientId: 'env-e2e', brokers: [server], logLevel: logLevel.NOTHING }).admin();
    await admin.connect();
    await admin.createTopics({ waitForLeaders: true, topics: [{ topic, numPartitions: 1 }] });
    await admin.disconnect();
  }
  write('apis/readings/api.json', { name: 'Readings', contextPaths: ['/readings'], entrypoints: [{ type: 'websocket', publisher: false }], endpoints: kafkaEndpoint('localhost:9') });
  write('apis/readings/plans/open.json', { name: 'Open', type: 'keyless', status: 'published' });
  for (const env of ['a', 'b'] as const) write(`apis/environments/${env}.json`, { apis: { readings: { endpoints: kafkaEndpoint(bootstrap[env]) } } });
  for (const env of ['a', 'b'] as const) {
    const result = await compileFolder(join(work, 'apis'), { environment: env });
    expect(result.diagnostics).toEqual([]);
    expect(result.bundle!.environment).toBe(env);
    const store = join(work, `store-${env}`);
    await new Store(store).release(result.bundle!, { tag: `${env}/v1`, commit: '0'.repeat(40), compilerVersion: 'test' }, () => []);
    const gateway = await startGateway({ port: 0, adminPort: null, source: storeSource(store) });
    gateways[env] = gateway;
    await waitFor(() => gateway.routers.current?.bundleId === result.bundle!.id, 30_000, `gateway ${env} to load its bundle`);
  }
}, 240_000);

afterAll(async () => {
  await Promise.all(Object.values(gateways).map((gateway) => gateway!.close()));
  await brokerB?.close();
  rmSync(work, { recursive: true, force: true });
});

/** Produce markers on the broker until the client has one: the subscription is live. */
async function warmUp(env: 'a' | 'b', client: Client): Promise<void> {
  for (let i = 0; i < 120; i++) {
    await kcatProduce(bootstrap[env], topic, [`warmup-${env}-${i}`]);
    try {
      await waitFor(() => client.texts().length > 0, 500, 'warm-up');
      return;
    } catch {
      // not yet
    }
  }
  throw new Error(`gateway ${env}'s client never received a warm-up record`);
}

it('records produced on broker A reach only runtime A, on broker B only runtime B', { timeout: 180_000 }, async () => {
  const clients = { a: connect(`${gateways.a!.url.replace('http', 'ws')}/readings`), b: connect(`${gateways.b!.url.replace('http', 'ws')}/readings`) };
  try {
    await Promise.all([clients.a.opened, clients.b.opened]);
    await Promise.all([warmUp('a', clients.a), warmUp('b', clients.b)]);
    await kcatProduce(bootstrap.a, topic, ['from-a-1', 'from-a-2', 'end-a']);
    await kcatProduce(bootstrap.b, topic, ['from-b-1', 'end-b']);
    await waitFor(() => clients.a.texts().includes('end-a') && clients.b.texts().includes('end-b'), 20_000, 'both end markers');
    const real = (client: Client) => client.texts().filter((text) => !text.startsWith('warmup-'));
    expect(real(clients.a)).toEqual(['from-a-1', 'from-a-2', 'end-a']);
    expect(real(clients.b)).toEqual(['from-b-1', 'end-b']);
    expect(clients.a.texts().some((text) => text.includes('-b'))).toBe(false);
    expect(clients.b.texts().some((text) => text.includes('-a'))).toBe(false);
  } finally {
    clients.a.ws.close();
    clients.b.ws.close();
  }
});
