/**
 * Sharding tags: a gateway with `tags` serves only APIs carrying one of them (404 for the others),
 * a gateway without serves only untagged APIs; a hot swap re-applies the filter. `--tags` and
 * SLUICE_TAGS reach the gateway through the server flags.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { Gateway } from '../../runtime/gateway.ts';
import { NO_CONTEXT_PATH } from '../../core/errors.ts';
import { parseServerFlags, UsageError } from '../../cli/options.ts';
import { makeBundle } from '../support/bundles.ts';
import { gatewayWith } from '../support/harness.ts';

const bundle = makeBundle({
  plain: {},
  edge: { definition: { tags: ['edge'] } },
  internal: { definition: { tags: ['internal', 'ops'] } },
});
const status = async (gateway: Gateway, path: string) => {
  const res = await fetch(`${gateway.url}${path}`, { headers: { accept: 'application/json' } });
  const body = await res.text();
  return { status: res.status, body };
};

let gateways: Gateway[] = [];
afterEach(async () => {
  await Promise.all(gateways.map((gateway) => gateway.close()));
  gateways = [];
});
const start = async (tags?: string[]) => {
  const gateway = await gatewayWith(bundle, { port: 0, adminPort: null, ...(tags ? { tags } : {}) });
  gateways.push(gateway);
  return gateway;
};

describe('a gateway with tags', () => {
  it('--tags edge answers 404 for an untagged API and 200 for an edge one', async () => {
    const gateway = await start(['edge']);
    expect(await status(gateway, '/plain/')).toEqual({ status: 404, body: NO_CONTEXT_PATH });
    expect(await status(gateway, '/internal/')).toEqual({ status: 404, body: NO_CONTEXT_PATH });
    expect((await status(gateway, '/edge/')).status).toBe(200);
  });

  it('serves an API carrying any one of its tags', async () => {
    const gateway = await start(['ops', 'edge']);
    expect((await status(gateway, '/edge/')).status).toBe(200);
    expect((await status(gateway, '/internal/')).status).toBe(200);
    expect((await status(gateway, '/plain/')).status).toBe(404);
  });

  it('without tags serves only untagged APIs', async () => {
    const gateway = await start();
    expect((await status(gateway, '/plain/')).status).toBe(200);
    expect((await status(gateway, '/edge/')).status).toBe(404);
  });

  it('re-applies the filter on a hot swap: an API that gains the tag is served, one that loses it is not', async () => {
    const gateway = await start(['edge']);
    const swapped = makeBundle({ plain: { definition: { tags: ['edge'] } }, edge: {} });
    const result = await gateway.deploy(swapped);
    expect(result.deployed).toBe(true);
    expect((await status(gateway, '/plain/')).status).toBe(200);
    expect((await status(gateway, '/edge/')).status).toBe(404);
  });
});

describe('--tags', () => {
  const parse = (args: string[], env: NodeJS.ProcessEnv = {}) => parseServerFlags(args, [], { env, warn: () => {} }).server;
  it('reads --tags and SLUICE_TAGS', () => {
    expect(parse(['--tags', 'edge, internal']).tags).toEqual(['edge', 'internal']);
    expect(parse([], { SLUICE_TAGS: 'edge' }).tags).toEqual(['edge']);
    expect(parse([]).tags).toBeUndefined();
  });
  it('refuses a tag that no API could carry, naming it', () => {
    expect(() => parse(['--tags', 'Edge'])).toThrow(UsageError);
    expect(() => parse(['--tags', 'Edge'])).toThrow(/"Edge" is not a tag/);
    expect(() => parse([], { SLUICE_TAGS: ',' })).toThrow(/SLUICE_TAGS/);
  });
});
