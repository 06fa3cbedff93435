/**
 * /readyz means "this instance serves a bundle": an endpoint outage leaves it 200 (so one broker
 * outage does not take every instance out of a Service) and names the endpoint; /readyz?strict=1
 * keeps the endpoint-health semantics; draining (shutdown's first step) makes both 503.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Gateway } from '../../runtime/gateway.ts';
import { makeBundle } from '../support/bundles.ts';
import { gatewayWith } from '../support/harness.ts';
import { registryWith } from '../support/registry.ts';
import { CountingEndpoint } from './counting-endpoint.ts';

class SwitchedEndpoint extends CountingEndpoint {
  healthy = true;
  override health() {
    return this.healthy ? { healthy: true } : { healthy: false, detail: 'broker unreachable (test)' };
  }
}
const endpoints: SwitchedEndpoint[] = [];
const registry = registryWith({ kafka: () => {
  const endpoint = new SwitchedEndpoint();
  endpoints.push(endpoint);
  return endpoint;
} });

let gateway: Gateway;
beforeAll(async () => {
  gateway = await gatewayWith(undefined, { registry });
});
afterAll(() => gateway.close());

const readyz = async (query = '') => {
  const res = await fetch(`${gateway.adminUrl}/readyz${query}`);
  return { status: res.status, body: await res.json() };
};

it('503 before a bundle; 200 with one even while an endpoint is down (strict=1: 503 naming it); 503 once draining', async () => {
  expect((await readyz()).status).toBe(503);
  expect((await readyz('?strict=1')).status).toBe(503);
  const bundle = makeBundle({
    orders: { definition: { contextPaths: ['/orders/'], endpoints: [{ type: 'kafka', bootstrapServers: ['127.0.0.1:1'], consumer: { topics: ['t'] }, producer: { topic: 't' } }] } },
    mock: {},
  });
  await gateway.deploy(bundle);
  expect(await readyz()).toEqual({ status: 200, body: expect.objectContaining({ ready: true, bundleId: bundle.id }) });
  expect((await readyz('?strict=1')).status).toBe(200);

  endpoints.at(-1)!.healthy = false;
  const lenient = await readyz();
  expect(lenient.status).toBe(200);
  expect(lenient.body).toMatchObject({ ready: true, unhealthy: ['orders'] });
  const strict = await readyz('?strict=1');
  expect(strict.status).toBe(503);
  expect(strict.body).toMatchObject({ ready: false, unhealthy: ['orders'] });
  expect(strict.body.apis.orders.endpoints[0]).toMatchObject({ healthy: false, detail: 'broker unreachable (test)' });
  endpoints.at(-1)!.healthy = true;

  gateway.drain();
  expect(await readyz()).toEqual({ status: 503, body: expect.objectContaining({ ready: false, reason: expect.stringContaining('draining') }) });
  expect((await readyz('?strict=1')).status).toBe(503);
  expect((await fetch(`${gateway.url}/mock?limit=1`)).status).toBe(200); // still serving
  expect((await fetch(`${gateway.adminUrl}/healthz`)).status).toBe(200);
});
