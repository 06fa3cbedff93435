/**
 * The examples under docs/examples/ (not served by `npm start`) validate: `sluice validate
 * docs/examples` exits 0, and the webhook example is the push setup docs/guides/webhooks.md describes.
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
