/**
 * The examples under docs/examples/ (not served by `npm start`: they need a broker or a secret)
 * validate: `sluice validate docs/examples` exits 0; orders (Kafka, API key) and sensors (MQTT,
 * JWT) and shipments (RabbitMQ, keyless), deliveries (NATS
 * JetStream, keyless) are what docs/guides/brokers.md describes, and the webhook example is the push setup
 * docs/guides/webhooks.md describes.
 */
import { describe, expect, it, vi } from 'vitest';
import { compileFolder } from '../../compiler/index.ts';
import { run as validate } from '../../cli/validate.ts';

describe('docs/examples', () => {
  it('validates clean with `sluice validate docs/examples` (exit 0)', async () => {
    const print = vi.spyOn(console, 'log').mockImplementation(() => undefined);
    const printError = vi.spyOn(console, 'error').mockImplementation(() => undefined);
    try {
      expect(await validate(['docs/examples'])).toBe(0);
    } finally {
      print.mockRestore();
      printError.mockRestore();
    }
  });

  it('orders: Kafka on 127.0.0.1:9092 behind an API key; sensors: MQTT 5 behind a JWT whose secret is SENSORS_JWT_SECRET', async () => {
    const { bundle, diagnostics } = await compileFolder('docs/examples');
    expect(diagnostics).toEqual([]);
    expect(Object.keys(bundle!.apis).sort()).toEqual(['deliveries', 'orders', 'sensors', 'shipments', 'webhook-orders']);
    const orders = bundle!.apis.orders!;
    expect(orders.definition.endpoints[0]).toMatchObject({ type: 'kafka', bootstrapServers: ['127.0.0.1:9092'], consumer: { topics: ['orders'] } });
    expect(orders.subscriptions.acme!.apiKeys![0]!.hash).toMatch(/^[0-9a-f]{64}$/);
    const sensors = bundle!.apis.sensors!;
    expect(sensors.definition.endpoints[0]).toMatchObject({ type: 'mqtt', consumer: { topic: 'sensors/readings/#' } });
    expect(sensors.plans.fleet).toMatchObject({ type: 'jwt', secret: { env: 'SENSORS_JWT_SECRET' } });
    const shipments = bundle!.apis.shipments!;
    expect(shipments.definition.endpoints[0]).toMatchObject({ type: 'rabbitmq', consumer: { exchange: 'shipments', bindingKey: 'shipments.#' }, producer: { routingKey: 'shipments.{header.x-carrier}' } });
  });

  it('deliveries: NATS JetStream stream DELIVERIES on 127.0.0.1:4222, resumable (qos at-least-once), keyless', async () => {
    const { bundle, diagnostics } = await compileFolder('docs/examples');
    expect(diagnostics).toEqual([]);
    const deliveries = bundle!.apis.deliveries!;
    expect(deliveries.definition.endpoints[0]).toMatchObject({ type: 'nats', servers: ['nats://127.0.0.1:4222'], stream: 'DELIVERIES', consumer: { subject: 'deliveries.>' } });
    expect(deliveries.plans.open).toMatchObject({ type: 'keyless' });
  });

  it('webhook-orders: a kafka endpoint, a webhook entrypoint, a push plan and a subscription with callback, bearer by env, retry and deadLetter', async () => {
    const { bundle, diagnostics } = await compileFolder('docs/examples');
    expect(diagnostics).toEqual([]);
    const api = bundle!.apis['webhook-orders']!;
    expect(api.definition.entrypoints.map((e) => e.type)).toEqual(['webhook']);
    expect(api.definition.endpoints[0]).toMatchObject({ type: 'kafka', consumer: { topics: ['orders'] } });
    expect(api.plans.hooks).toMatchObject({ type: 'push', status: 'published' });
    expect(api.subscriptions.acme!.webhook).toMatchObject({
      callbackUrl: expect.stringMatching(/^https:\/\//),
      auth: { type: 'bearer', token: { env: 'ACME_HOOK_TOKEN' } },
      retry: { strategy: 'exponential' },
      deadLetter: { topic: 'orders-dlq' },
    });
  });
});
