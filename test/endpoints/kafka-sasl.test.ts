/**
 * SASL/PLAIN against a dedicated Kafka broker whose client listener requires it: the endpoint's
 * password is a secret reference resolved once when the endpoint is built; a wrong password makes
 * the endpoint unhealthy (never a crash) and publishes 503.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createKafkaEndpoint } from '../../runtime/endpoints/kafka/kafka.ts';
import type { SecretRef } from '../../schemas/types.ts';
import { setLogLevel } from '../../runtime/log.ts';
import { startKafka, type KafkaBroker } from '../support/brokers/kafka-broker.ts';
import { run } from '../brokers-e2e/clients.ts';

setLogLevel('silent');
let broker: KafkaBroker;
beforeAll(async () => {
  broker = await startKafka({ saslPlainUsers: { sluice: 'sluice-secret' } });
});
afterAll(async () => {
  await broker?.close();
});

const secrets: Record<string, string> = { KAFKA_PASSWORD: 'sluice-secret', WRONG_PASSWORD: 'nope' };

function endpointWith(passwordEnv: string, asked: SecretRef[]) {
  return createKafkaEndpoint({
    type: 'kafka',
    bootstrapServers: [broker.bootstrap],
    producer: { topic: 'secured' },
    security: { protocol: 'SASL_PLAINTEXT', sasl: { mechanism: 'PLAIN', username: 'sluice', password: { env: passwordEnv } } },
  }, {
    apiId: 'sasl',
    instanceId: 'test',
    resolveSecret: (ref) => {
      asked.push(ref);
      return secrets[(ref as { env: string }).env]!;
    },
  });
}

it('authenticates with a password from a secret reference and publishes', { timeout: 60_000 }, async () => {
  const asked: SecretRef[] = [];
  const endpoint = endpointWith('KAFKA_PASSWORD', asked);
  expect(asked).toEqual([{ env: 'KAFKA_PASSWORD' }]); // resolved when built, not per message
  await endpoint.start();
  try {
    expect(endpoint.health()).toEqual({ healthy: true });
    await endpoint.publish({ content: Buffer.from('secured hello'), headers: {}, metadata: {} });
    const { stdout } = await run('kcat', ['-C', '-b', broker.bootstrap, '-t', 'secured', '-o', 'beginning', '-c', '1', '-e',
      '-X', 'security.protocol=SASL_PLAINTEXT', '-X', 'sasl.mechanisms=PLAIN', '-X', 'sasl.username=sluice', '-X', 'sasl.password=sluice-secret']);
    expect(stdout.toString().trim()).toBe('secured hello');
    expect(asked).toHaveLength(1);
  } finally {
    await endpoint.stop();
  }
});

it('a wrong password: start() resolves, health says why, publish is a 503', { timeout: 60_000 }, async () => {
  const endpoint = endpointWith('WRONG_PASSWORD', []);
  await endpoint.start();
  try {
    expect(endpoint.health().healthy).toBe(false);
    expect(endpoint.health().detail).toMatch(/unreachable|SASL|auth/i);
    await expect(endpoint.publish({ content: Buffer.from('x'), headers: {}, metadata: {} })).rejects.toMatchObject({ status: 503 });
  } finally {
    await endpoint.stop();
  }
});
