/**
 * A push subscription delivers only inside its startingAt/endingAt window: nothing before (state
 * `pending`), its consumer starts when the window opens without a deploy, and it stops at endingAt
 * (state `stopped` with the reason on /status). Mock endpoint, a real callback server.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { Gateway } from '../../runtime/gateway.ts';
import { gatewayWith, waitFor } from '../support/harness.ts';
import { makeBundle } from '../support/bundles.ts';
import { startCallbackServer, type CallbackServer } from './callback-server.ts';

let gateway: Gateway | undefined;
let target: CallbackServer | undefined;
afterEach(async () => {
  await gateway?.close();
  gateway = undefined;
  await target?.close();
  target = undefined;
});

interface Row { state: string; reason?: string; delivered: number }

async function status(): Promise<Row> {
  const body = (await (await fetch(`${gateway!.adminUrl}/status`)).json()) as { apis: { orders: { entrypoints: { webhook: { subscriptions: Record<string, Row> } } } } };
  return body.apis.orders.entrypoints.webhook.subscriptions.acme!;
}

describe('push subscription window', () => {
  it('delivers only between startingAt and endingAt, starting and stopping by itself', async () => {
    const arrivals: number[] = [];
    target = await startCallbackServer(() => (arrivals.push(Date.now()), 200));
    // Margins for a loaded machine: building the gateway must finish well before the window opens.
    const startingAt = Date.now() + 4_000;
    const endingAt = startingAt + 2_000;
    gateway = await gatewayWith(
      makeBundle({
        orders: {
          definition: { entrypoints: [{ type: 'webhook' }], endpoints: [{ type: 'mock', messageInterval: 50 }] },
          plans: { push: { type: 'push', name: 'Push', status: 'published' } },
          subscriptions: {
            acme: { plan: 'push', startingAt: new Date(startingAt).toISOString(), endingAt: new Date(endingAt).toISOString(), webhook: { callbackUrl: target.url } },
          },
        },
      }),
    );
    const before = await status();
    expect(before).toMatchObject({ state: 'pending', delivered: 0 });
    expect(before.reason).toContain(new Date(startingAt).toISOString());

    await target.waitForDelivered(1, 6_000);
    expect(arrivals[0]).toBeGreaterThanOrEqual(startingAt);
    expect((await status()).state).toBe('started');

    let after: Row | undefined;
    await waitFor(() => (void status().then((row) => (after = row)), after?.state === 'stopped'), 6_000, 'state stopped after endingAt');
    expect(after!.reason).toContain(`ended at ${new Date(endingAt).toISOString()}`);
    const count = target.received.length;
    expect(count).toBeGreaterThan(3);
    expect(arrivals.every((at) => at >= startingAt && at < endingAt + 100)).toBe(true);
    await new Promise((resolve) => setTimeout(resolve, 300)); // nothing may arrive once stopped
    expect(target.received.length).toBe(count);
  });
});
