/**
 * Per-API fingerprints stored in the bundle by the compiler: the runtime checks them in the same pass
 * as the id (a bundle edited after compiling is refused), then compares them to decide what a deploy
 * kept or changed. Bundles of earlier compilers (no fingerprints) still load: theirs are computed.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { Bundle } from '../../schemas/types.ts';
import { makeBundle as compilerBundle } from '../../compiler/bundle.ts';
import { apiFingerprint, bundleId } from '../../core/canonical-json.ts';
import { BundleError, validateBundle } from '../../runtime/bundle.ts';
import type { Gateway } from '../../runtime/gateway.ts';
import { makeBundle as earlierBundle, type ApiSpec } from '../support/bundles.ts';
import { gatewayWith } from '../support/harness.ts';

const specs: Record<string, ApiSpec> = {
  a: {},
  b: { subscriptions: { acme: { plan: 'open' } } },
};
/** What this compiler writes: the same content as earlierBundle, plus `fingerprints`. */
const compiled = (spec: Record<string, ApiSpec> = specs): Bundle => {
  const earlier = earlierBundle(spec);
  return compilerBundle(earlier.apis, { kind: 'folder', compilerVersion: 'test' });
};
/** An edit after compiling, with the id recomputed (as a forger would) but the fingerprints left. */
function edited(bundle: Bundle, edit: (copy: Bundle) => void): Bundle {
  const copy = JSON.parse(JSON.stringify(bundle)) as Bundle; // (no shared objects: the fixtures share plans)
  edit(copy);
  return { ...copy, id: bundleId(copy) };
}

let gateway: Gateway | undefined;
afterEach(async () => {
  await gateway?.close();
  gateway = undefined;
});

describe('bundle fingerprints', () => {
  it('the compiler stores every API\'s fingerprint; the id is the same as without them', () => {
    const bundle = compiled();
    expect(bundle.id).toBe(earlierBundle(specs).id);
    expect(bundle.id).toBe(bundleId({ formatVersion: 1, apis: bundle.apis }));
    expect(Object.keys(bundle.fingerprints!).sort()).toEqual(['a', 'b']);
    expect(bundle.fingerprints!.b).toEqual(apiFingerprint(bundle.apis.b!));
    expect(Object.keys(bundle.fingerprints!.b!.subscriptions)).toEqual(['acme']);
    expect(bundle.fingerprints!.a!.api).toMatch(/^[0-9a-f]{64}$/);
  });

  it('loads a bundle with fingerprints, and computes the same ones for a bundle of an earlier compiler', () => {
    const stored = validateBundle(JSON.parse(JSON.stringify(compiled())));
    const computed = validateBundle(JSON.parse(JSON.stringify(earlierBundle(specs))));
    expect(computed.id).toBe(stored.id);
    expect({ ...computed.fingerprints }).toEqual({ ...stored.fingerprints });
  });

  it('refuses a bundle whose fingerprints do not match its APIs, naming the API', () => {
    const bundle = compiled();
    const changedPlan = edited(bundle, (copy) => { copy.apis.b!.plans.open!.name = 'Other'; });
    expect(() => validateBundle(changedPlan)).toThrow(BundleError);
    expect(() => validateBundle(changedPlan)).toThrow(/fingerprints \(API "b"\) do not match its content/);
    const extra = { ...bundle, fingerprints: { ...bundle.fingerprints, c: bundle.fingerprints!.a! } };
    expect(() => validateBundle(extra)).toThrow(/fingerprints \(API "c"\)/);
    const { b: _b, ...missing } = bundle.fingerprints!;
    expect(() => validateBundle({ ...bundle, fingerprints: missing })).toThrow(/fingerprints \(API "b"\)/);
    const malformed = { ...bundle, fingerprints: { ...bundle.fingerprints, a: { api: 'x' } } };
    expect(() => validateBundle(malformed)).toThrow(/invalid bundle: \/fingerprints\/a/);
  });

  it('a deploy of an edited bundle fails and the last good one keeps serving', async () => {
    const good = compiled();
    gateway = await gatewayWith(good);
    const forged = edited(good, (copy) => { copy.apis.a!.definition.name = 'forged'; });
    const result = await gateway.deploy(forged);
    expect(result.deployed).toBe(false);
    expect(result.error).toMatch(/fingerprints \(API "a"\) do not match/);
    expect(gateway.routers.current!.bundleId).toBe(good.id);
  });

  it('decides kept / changed with the stored fingerprints, across bundles of earlier and this compiler', async () => {
    gateway = await gatewayWith(earlierBundle(specs));
    const before = gateway.routers.current!.exchanges;
    // Same APIs, another bundle (another source): compiled, with stored fingerprints.
    const next = compiled({ ...specs, c: {} });
    expect(await gateway.deploy(next)).toMatchObject({ deployed: true, kept: ['a', 'b'], added: ['c'], changed: [] });
    expect(gateway.routers.current!.exchanges.get('b')).toBe(before.get('b'));
    // Only b's subscriptions changed: b is changed in place (same exchange), a and c are kept.
    const plansOnly = compiled({ ...specs, b: { subscriptions: { acme: { plan: 'open' }, beta: { plan: 'open' } } }, c: {} });
    expect(await gateway.deploy(plansOnly)).toMatchObject({ deployed: true, kept: ['a', 'c'], changed: ['b'] });
    expect(gateway.routers.current!.exchanges.get('b')).toBe(before.get('b'));
    // b's definition changed: a new exchange.
    const definition = compiled({ ...specs, b: { definition: { name: 'b v2' } }, c: {} });
    expect(await gateway.deploy(definition)).toMatchObject({ deployed: true, kept: ['a', 'c'], changed: ['b'] });
    expect(gateway.routers.current!.exchanges.get('b')).not.toBe(before.get('b'));
  });
});
