import { describe, expect, it } from 'vitest';
import { diffBundles, formatDiff } from '../../compiler/diff.ts';
import { apiFolder, apiKeyPlan, apiKeySubscription, compileFiles, keylessPlan, mockApi } from './repo.ts';

const keyed = { gold: apiKeyPlan() };
const base = {
  ...apiFolder('orders', mockApi('orders'), keyed, { acme: apiKeySubscription('gold') }),
  ...apiFolder('quotes', mockApi('quotes', { flows: { publish: [], subscribe: [{ policy: 'message-filter', condition: '$.amount > 10' }] } })),
  ...apiFolder('legacy', mockApi('legacy')),
  ...apiFolder('stable', mockApi('stable')),
};

describe('diff', () => {
  it('reports API by API, field by field, and flags the dangerous changes', () => {
    const a = compileFiles(base, { tag: 'v1', commit: '1'.repeat(40) });
    const b = compileFiles(
      {
        ...base,
        ...apiFolder('orders', mockApi('orders', { contextPaths: ['/orders-v2'] }), { gold: apiKeyPlan('closed'), silver: apiKeyPlan(), open: keylessPlan('staging') }, { acme: { ...apiKeySubscription('gold'), status: 'closed' } }),
        ...apiFolder('quotes', mockApi('quotes', { state: 'stopped', entrypoints: [{ type: 'http-get', messagesLimitCount: 10 }], flows: { publish: [], subscribe: [{ policy: 'message-filter', condition: '$.amount > 20' }] } })),
        'apis/legacy/api.json': null,
        'apis/legacy/plans/open.json': null,
        ...apiFolder('fresh', mockApi('fresh')),
      },
      { tag: 'v2', commit: '2'.repeat(40) },
    );
    const d = diffBundles(a, b);
    expect(d.summary).toEqual({ added: 1, removed: 1, changed: 2, unchanged: 1 });
    expect(d.apis.map((x) => [x.id, x.status])).toEqual([['fresh', 'added'], ['legacy', 'removed'], ['orders', 'changed'], ['quotes', 'changed'], ['stable', 'unchanged']]);
    const orders = d.apis.find((x) => x.id === 'orders')!;
    expect(orders.changes).toEqual(
      expect.arrayContaining([
        { section: 'contextPaths', path: 'contextPaths', kind: 'changed', before: ['/orders/'], after: ['/orders-v2/'] },
        { section: 'plans', path: 'plans.gold.status', kind: 'changed', before: 'published', after: 'closed' },
        expect.objectContaining({ section: 'plans', path: 'plans.open', kind: 'added' }),
      ]),
    );
    const quotes = d.apis.find((x) => x.id === 'quotes')!;
    expect(quotes.changes).toEqual(
      expect.arrayContaining([
        { section: 'state', path: 'state', kind: 'changed', before: 'started', after: 'stopped' },
        { section: 'entrypoints', path: 'entrypoints.http-get.messagesLimitCount', kind: 'changed', before: 500, after: 10 },
        expect.objectContaining({ section: 'entrypoints', path: 'entrypoints.websocket', kind: 'removed' }),
        { section: 'flows', path: 'flows.subscribe[0].condition', kind: 'changed', before: '$.amount > 10', after: '$.amount > 20' },
      ]),
    );
    expect(d.dangers.map((x) => `${x.code} ${x.api}`).sort()).toEqual(
      [
        'CONTEXT_PATH_CHANGED orders',
        'KEYLESS_PLAN_ADDED fresh',
        'KEYLESS_PLAN_ADDED orders',
        'PLAN_CLOSED_WITH_SUBSCRIPTIONS orders',
        'STARTED_API_REMOVED legacy',
        'STARTED_API_STOPPED quotes',
      ].sort(),
    );

    const human = formatDiff(d, 'human');
    expect(human).toContain('sluice diff: v1 (1111111, bundle');
    expect(human).toContain('! 6 dangerous changes:');
    expect(human).toContain('    state: "started" -> "stopped"');
    expect(human).toContain('unchanged: stable');
    const md = formatDiff(d, 'markdown');
    expect(md).toContain('### Sluice diff: `v1` → `v2`');
    expect(md).toContain('> [!WARNING]');
    expect(md).toContain('| `plans.gold.status` | `"published"` | `"closed"` |');
    expect(md).toContain('| `flows.subscribe[0].condition` | `"$.amount > 10"` | `"$.amount > 20"` |');
    const json = JSON.parse(formatDiff(d, 'json'));
    expect(json.dangers).toHaveLength(6);
    expect(json.to.label).toBe('v2');
  });

  it('identical content is an empty diff', () => {
    const a = compileFiles(base, { ref: 'main' });
    const d = diffBundles(a, compileFiles(base, { ref: 'HEAD' }));
    expect(d.summary).toEqual({ added: 0, removed: 0, changed: 0, unchanged: 4 });
    expect(d.dangers).toEqual([]);
    expect(formatDiff(d, 'human')).toContain('identical bundles');
  });

  it('escapes table cells for markdown', () => {
    const a = compileFiles(apiFolder('x', mockApi('x', { description: 'a' })));
    const b = compileFiles(apiFolder('x', mockApi('x', { description: 'a | b `c`' })));
    expect(formatDiff(diffBundles(a, b), 'markdown')).toContain('| `description` | `"a"` | `` "a \\| b `c`" `` |');
  });
});
