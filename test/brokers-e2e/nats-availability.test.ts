/**
 * The nats endpoint against servers that are down when it starts, or refuse its credentials, on
 * dedicated nats-servers: start() never rejects, health says why, publish and subscribe reject with
 * 503 ENDPOINT_UNAVAILABLE, and it connects by itself once the server is up. Credentials are secret
 * references resolved through the context (never in the config).
 */
import { afterAll, describe, expect, it } from 'vitest';
import { createNatsEndpoint } from '../../runtime/endpoints/nats/nats.ts';
import type { Endpoint } from '../../runtime/endpoints/endpoint.ts';
import { GatewayError } from '../../core/errors.ts';
import { setLogLevel } from '../../runtime/log.ts';
import { loopbackPort } from '../support/brokers/loopback-port.ts';
import { startNats } from '../support/brokers/nats-broker.ts';
import { collect, eventually, expectUnavailable } from '../contract/endpoint-suite.ts';

setLogLevel('silent');
const cleanup: Array<() => Promise<void>> = [];
afterAll(async () => {
  for (const release of cleanup.reverse()) await release().catch(() => {});
});

const secrets: Record<string, string> = { NATS_PASSWORD: 's3cret' };
const context = { apiId: 'availability', instanceId: 'test', resolveSecret: (ref: { env?: string }) => secrets[ref.env ?? ''] ?? 'wrong' };
const endpointOn = (port: number, password: string): Endpoint => {
  const endpoint = createNatsEndpoint(
    { type: 'nats', servers: [`nats://127.0.0.1:${port}`], consumer: { subject: 'avail.>' }, producer: { subject: 'avail.out' }, security: { auth: { username: 'sluice', password: { env: password } } } },
    context as never,
  );
  cleanup.push(() => endpoint.stop());
  return endpoint;
};

describe('nats endpoint availability', () => {
  it('starts while the server is down, reports it, refuses with 503, and connects once the server is up', { timeout: 60_000 }, async () => {
    const port = await loopbackPort();
    const endpoint = endpointOn(port, 'NATS_PASSWORD');
    await endpoint.start(); // resolves, never rejects
    expect(endpoint.health().healthy).toBe(false);
    expect(endpoint.health().detail).toContain(`127.0.0.1:${port}`);
    await expectUnavailable(endpoint.publish({ content: Buffer.from('x'), headers: {}, metadata: {} }));
    const early = collect(endpoint.subscribe({ signal: new AbortController().signal }));
    await early.until(() => early.ended, 5_000, 'refused subscription');
    expect((early.error as GatewayError).code).toBe('ENDPOINT_UNAVAILABLE');

    const broker = await startNats(port, { user: 'sluice', pass: 's3cret' });
    cleanup.push(() => broker.close());
    await eventually(async () => {
      expect(endpoint.health()).toEqual({ healthy: true });
      await endpoint.publish({ content: Buffer.from('ok'), headers: {}, metadata: {} });
    }, 30_000);
  });

  it('a wrong password: unhealthy with the server\'s reason, 503, never a crash', { timeout: 30_000 }, async () => {
    const port = await loopbackPort();
    const broker = await startNats(port, { user: 'sluice', pass: 's3cret' });
    cleanup.push(() => broker.close());
    const endpoint = endpointOn(port, 'NOT_SET');
    await endpoint.start();
    expect(endpoint.health().healthy).toBe(false);
    expect(endpoint.health().detail).toMatch(/authoriz/i);
    await expectUnavailable(endpoint.publish({ content: Buffer.from('x'), headers: {}, metadata: {} }));
  });
});
