/**
 * Channels on Kafka against the suite's broker: `/telemetry/{tenant}` with `consumer.match.key:
 * "{tenant}"` (one consumer, a per-client key filter) behind a JWT plan binding tenant to a claim.
 * Records are produced with `kcat -K`; SSE clients of two tenants each get only their records, a
 * caller asking for another tenant's channel gets 403, and Last-Event-ID resumes within the channel.
 */
import { randomUUID } from 'node:crypto';
import { SignJWT } from 'jose';
import { Kafka, logLevel, type Admin } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Gateway } from '../../runtime/gateway.ts';
import { gatewayWith, waitFor } from '../support/harness.ts';
import { makeBundle } from '../support/bundles.ts';
import { kafkaBootstrap } from '../support/brokers/brokers.ts';
import { openSse, sseContent, type SseStream } from '../contract/sse-client.ts';
import { kcatConsume, kcatProduce } from './clients.ts';

const SECRET = 'a-kafka-channels-signing-secret-32b!';
const topic = `channels-${randomUUID().slice(0, 6)}`;
let bootstrap: string;
let admin: Admin;
let gateway: Gateway;
const token = (tenant: string) =>
  new SignJWT({ azp: 'tenant-app', tenant }).setProtectedHeader({ alg: 'HS256' }).setExpirationTime('5m').sign(new TextEncoder().encode(SECRET));
const texts = (s: SseStream) => s.events.filter((e) => e.event.startsWith('message')).map((e) => sseContent(e).toString('utf8'));
const real = (list: string[]) => list.filter((t) => !t.startsWith('warmup-'));
const sse = async (tenant: string, as: string, headers: Record<string, string> = {}) =>
  openSse(`${gateway.url}/telemetry/${tenant}`, { authorization: `Bearer ${await token(as)}`, ...headers });

beforeAll(async () => {
  process.env.KAFKA_CHANNELS_JWT_SECRET = SECRET;
  bootstrap = await kafkaBootstrap();
  admin = new Kafka({ clientId: 'e2e-channels-admin', brokers: [bootstrap], logLevel: logLevel.NOTHING }).admin();
  await admin.connect();
  await admin.createTopics({ waitForLeaders: true, topics: [{ topic, numPartitions: 2 }, { topic: `${topic}-in`, numPartitions: 1 }] });
  gateway = await gatewayWith(makeBundle({
    telemetry: {
      definition: {
        contextPaths: ['/telemetry/{tenant}'],
        entrypoints: [{ type: 'sse', heartbeatIntervalInMs: 2000 }, { type: 'http-post' }],
        endpoints: [{
          type: 'kafka', bootstrapServers: [bootstrap],
          consumer: { topics: [topic], match: { key: '{tenant}' } },
          producer: { topic: `${topic}-in`, key: '{tenant}' },
        }],
      } as never,
      plans: { tenants: { type: 'jwt', name: 'Tenants', status: 'published', signature: 'HS256', secret: { env: 'KAFKA_CHANNELS_JWT_SECRET' }, bind: { tenant: 'claims.tenant' } } as never },
      subscriptions: { app: { plan: 'tenants', clientId: 'tenant-app' } as never },
    },
  }));
});

afterAll(async () => {
  await gateway?.close();
  await admin?.disconnect();
  delete process.env.KAFKA_CHANNELS_JWT_SECRET;
});

async function warmUp(ready: () => boolean): Promise<void> {
  for (let i = 0; i < 40; i++) {
    await kcatProduce(bootstrap, topic, [`acme:warmup-${i}`, `globex:warmup-${i}`], { keyed: true });
    try {
      await waitFor(ready, 500, 'warm-up');
      return;
    } catch {
      // not yet
    }
  }
  throw new Error('the clients never received a warm-up message');
}

describe('channels on Kafka', () => {
  it('two tenants on one keyed topic: each SSE client gets only its records; another tenant\'s channel is 403; Last-Event-ID resumes in the channel', { timeout: 60_000 }, async () => {
    const forbidden = await sse('globex', 'acme');
    expect(forbidden.status).toBe(403);
    expect(forbidden.body).toContain('CHANNEL_FORBIDDEN');

    const acme = await sse('acme', 'acme');
    const globex = await sse('globex', 'globex');
    expect([acme.status, globex.status]).toEqual([200, 200]);
    try {
      await warmUp(() => texts(acme).length > 0 && texts(globex).length > 0);
      await kcatProduce(bootstrap, topic, ['acme:a1', 'globex:g1', 'acme:a2', 'globex:g2'], { keyed: true });
      await acme.until((s) => real(texts(s)).length >= 2, 15_000, 'acme records');
      await globex.until((s) => real(texts(s)).length >= 2, 15_000, 'globex records');
      expect(real(texts(acme)).sort()).toEqual(['a1', 'a2']);
      expect(real(texts(globex)).sort()).toEqual(['g1', 'g2']);
      expect(gateway.routers.current!.exchanges.get('telemetry')!.fanout!.upstreamSubscriptions).toBe(1);
    } finally {
      globex.close();
    }

    // Resume: the id of the last acme event, then more records of both tenants while acme is away.
    const last = acme.events.filter((e) => e.event.startsWith('message')).at(-1)!.id!;
    acme.close();
    await kcatProduce(bootstrap, topic, ['globex:g3', 'acme:a3', 'globex:g4', 'acme:a4'], { keyed: true });
    const resumed = await sse('acme', 'acme', { 'last-event-id': last });
    try {
      expect(resumed.status).toBe(200);
      await resumed.until((s) => real(texts(s)).filter((t) => t === 'a3' || t === 'a4').length >= 2, 15_000, 'resumed acme records');
      expect(real(texts(resumed)).every((t) => t.startsWith('a'))).toBe(true);
      expect(real(texts(resumed))).toEqual(expect.arrayContaining(['a3', 'a4']));
    } finally {
      resumed.close();
    }
  });

  it('HTTP POST on a channel publishes with the tenant as the record key', { timeout: 30_000 }, async () => {
    const posted = await fetch(`${gateway.url}/telemetry/acme`, { method: 'POST', headers: { authorization: `Bearer ${await token('acme')}` }, body: 'reading' });
    expect(posted.status).toBe(202);
    const [record] = await kcatConsume(bootstrap, `${topic}-in`, 1);
    expect(record).toMatchObject({ key: 'acme', payload: 'reading' });
  });
});
