/**
 * Adding a connector touches its folder, its schema, one `$ref` and one registry line: here the
 * toy endpoint (test/architecture/toy/, nothing else) reaches clients through a gateway given a
 * Registry, with no global table rewired; a gateway started without it still serves the built-in.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Gateway } from '../../runtime/gateway.ts';
import { builtInRegistry, type Registry } from '../../runtime/registry.ts';
import { makeBundle } from '../support/bundles.ts';
import { gatewayWith } from '../support/harness.ts';
import { createToyEndpoint, type ToyEndpoint } from './toy/toy.ts';

const made: ToyEndpoint[] = [];
const registry: Registry = {
  ...builtInRegistry,
  endpoints: { ...builtInRegistry.endpoints, mock: (config, context) => { const endpoint = createToyEndpoint(config, context) as ToyEndpoint; made.push(endpoint); return endpoint; } },
};
const bundle = makeBundle({ toy: { definition: { entrypoints: [{ type: 'http-get', messagesLimitCount: 3 }, { type: 'http-post' }], endpoints: [{ type: 'mock', messageInterval: 5 }] } } });

let withToy: Gateway;
let builtIn: Gateway;

beforeAll(async () => {
  withToy = await gatewayWith(bundle, { registry });
  builtIn = await gatewayWith(bundle);
});
afterAll(async () => {
  await withToy?.close();
  await builtIn?.close();
});

const items = async (gateway: Gateway, query = '') => {
  const res = await fetch(`${gateway.url}/toy${query}`, { headers: { Accept: 'application/json' } });
  expect(res.status).toBe(200);
  return ((await res.json()) as { items: { id: string; content: string }[] }).items;
};

describe('a toy connector through the Registry', () => {
  it('serves the toy endpoint on the gateway that was given it, resuming from a cursor', async () => {
    expect((await items(withToy)).map((i) => i.content)).toEqual(['toy 0', 'toy 1', 'toy 2']);
    expect((await items(withToy, '?cursor=41')).map((i) => i.id)).toEqual(['42', '43', '44']);
  });

  it('publishes through it', async () => {
    const res = await fetch(`${withToy.url}/toy`, { method: 'POST', body: 'hello toy', headers: { 'Content-Type': 'text/plain' } });
    expect(res.status).toBeLessThan(300);
    expect(made.flatMap((endpoint) => endpoint.published.map((m) => Buffer.from(m.content).toString()))).toEqual(['hello toy']);
  });

  it('leaves other gateways on the built-in implementation (no global registry)', async () => {
    expect((await items(builtIn)).map((i) => i.content)).toEqual(['mock message', 'mock message', 'mock message']);
  });
});
