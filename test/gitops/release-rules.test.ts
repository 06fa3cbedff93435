import { describe, expect, it } from 'vitest';
import { CODES, compileTree, COMPILER_VERSION } from '../../compiler/index.ts';
import { checkReleaseRules, RELEASE_RULE_CODES, releaseRules } from '../../compiler/release-rules.ts';
import { apiFolder, apiKeyPlan, apiKeySubscription, compileFiles, keylessPlan, mockApi, sourcesOf } from './repo.ts';

const release = { tag: 'v3', deployment: 7 };

/** Check `nextFiles` against `previousFiles`; returns the diagnostics. */
function rules(previousFiles: Record<string, unknown>, nextFiles: Record<string, unknown>) {
  const previous = compileFiles(previousFiles);
  const next = compileFiles(nextFiles);
  return checkReleaseRules(previous, next, { release, files: sourcesOf(nextFiles) });
}

const stopped = (id: string, plans = { open: keylessPlan('closed') }) => apiFolder(id, mockApi(id, { state: 'stopped' }), plans);

describe('release rules', () => {
  it('an API may disappear only if it was stopped with no published plans', () => {
    const other = apiFolder('other', mockApi('other'));
    const started = rules({ ...apiFolder('orders', mockApi('orders')), ...other }, other);
    expect(started).toEqual([
      expect.objectContaining({
        file: 'orders/api.json',
        line: 1,
        code: 'RELEASE_API_REMOVED',
        message: expect.stringMatching(/API "orders" was removed, but in the previous release it was started and had published plans \(open\).*\(conflicts with release v3, deployment 7\)/),
      }),
    ]);
    const stoppedPublished = rules({ ...stopped('orders', { open: keylessPlan('published') }), ...other }, other);
    expect(stoppedPublished.map((d) => d.message)).toEqual([expect.stringContaining('it had published plans (open)')]);
    expect(rules({ ...stopped('orders'), ...other }, other)).toEqual([]);
  });

  it('a plan may disappear only if it was closed', () => {
    const base = apiFolder('orders', mockApi('orders'), { open: keylessPlan(), gold: apiKeyPlan('deprecated') });
    const next = apiFolder('orders', mockApi('orders'), { open: keylessPlan() });
    expect(rules(base, next)).toEqual([
      expect.objectContaining({ file: 'orders/plans/gold.json', code: 'RELEASE_PLAN_REMOVED', message: expect.stringContaining('plan "gold" of API "orders" was removed, but it is deprecated') }),
    ]);
    const closed = apiFolder('orders', mockApi('orders'), { open: keylessPlan(), gold: apiKeyPlan('closed') });
    expect(rules(closed, next)).toEqual([]);
  });

  it('deprecated and archived lifecycles are terminal; a deprecated plan may only close', () => {
    const deprecated = apiFolder('orders', mockApi('orders', { lifecycle: 'deprecated' }));
    const republished = apiFolder('orders', mockApi('orders', { lifecycle: 'published' }));
    const [api] = rules(deprecated, republished);
    expect(api).toMatchObject({ file: 'orders/api.json', code: 'RELEASE_API_LIFECYCLE_TERMINAL', pointer: '/lifecycle' });
    expect(api.line).toBe(4); // the "lifecycle" line of the pretty-printed file
    expect(api.message).toContain('deprecated is terminal');
    const archived = apiFolder('orders', mockApi('orders', { lifecycle: 'archived', state: 'stopped' }), { open: keylessPlan('closed') });
    expect(rules(deprecated, archived)).toEqual([]);
    expect(rules(archived, { ...archived, 'apis/orders/api.json': mockApi('orders', { lifecycle: 'unpublished', state: 'stopped' }) })).toEqual([
      expect.objectContaining({ code: 'RELEASE_API_LIFECYCLE_TERMINAL', message: expect.stringContaining('archived is terminal') }),
    ]);
    const planDeprecated = apiFolder('orders', mockApi('orders'), { open: keylessPlan(), gold: apiKeyPlan('deprecated') });
    const planBack = apiFolder('orders', mockApi('orders'), { open: keylessPlan(), gold: apiKeyPlan('published') });
    expect(rules(planDeprecated, planBack)).toEqual([expect.objectContaining({ file: 'orders/plans/gold.json', code: 'RELEASE_PLAN_STATUS_TERMINAL' })]);
  });

  it('an archived API cannot be started (the compiler refuses it in every compile)', () => {
    const files = sourcesOf(apiFolder('orders', mockApi('orders', { lifecycle: 'archived' })));
    const result = compileTree(files, { source: { kind: 'git', compilerVersion: COMPILER_VERSION } });
    expect(result.diagnostics.map((d) => d.code)).toContain('ARCHIVED_STARTED');
  });

  it('no new subscriptions to a deprecated plan or to a plan of a deprecated API', () => {
    const plans = { open: keylessPlan(), gold: apiKeyPlan('deprecated') };
    const before = apiFolder('orders', mockApi('orders'), plans, { acme: apiKeySubscription('gold') });
    const after = apiFolder('orders', mockApi('orders'), plans, { acme: apiKeySubscription('gold'), globex: apiKeySubscription('gold') });
    expect(rules(before, after)).toEqual([
      expect.objectContaining({ file: 'orders/subscriptions/globex.json', pointer: '/plan', line: 2, code: 'RELEASE_SUBSCRIPTION_TO_DEPRECATED', message: expect.stringContaining('the plan is deprecated') }),
    ]);
    const livePlans = { open: keylessPlan(), gold: apiKeyPlan() };
    const deprecatedApi = (subs: Record<string, Record<string, unknown>>) => apiFolder('orders', mockApi('orders', { lifecycle: 'deprecated' }), livePlans, subs);
    expect(rules(deprecatedApi({ acme: apiKeySubscription('gold') }), deprecatedApi({ acme: apiKeySubscription('gold'), globex: apiKeySubscription('gold') }))).toEqual([
      expect.objectContaining({ code: 'RELEASE_SUBSCRIPTION_TO_DEPRECATED', message: expect.stringContaining('API "orders" is deprecated') }),
    ]);
    expect(rules(before, before)).toEqual([]);
  });

  it('plugs into compileTree as the releaseRules hook', () => {
    const previous = compileFiles(apiFolder('orders', mockApi('orders')));
    const next = sourcesOf(apiFolder('other', mockApi('other')));
    const result = compileTree(next, { source: { kind: 'git', compilerVersion: COMPILER_VERSION }, previous, releaseRules: releaseRules({ tag: 'v1' }) });
    expect(result.bundle).toBeUndefined();
    expect(result.diagnostics).toEqual([expect.objectContaining({ code: 'RELEASE_API_REMOVED', message: expect.stringContaining('(conflicts with release v1)') })]);
  });

  it('every release-rule code is listed in compiler/codes.ts', () => {
    for (const code of [...Object.values(RELEASE_RULE_CODES), 'GIT_NOT_A_FILE']) expect(CODES).toHaveProperty(code);
  });
});
