/**
 * The webhook subscriptions running on one gateway, by `<api>/<subscription>` (its GatewayState holds the table).
 *
 * Exchanges come and go with deploys; a subscription's consumer should not. Each webhook
 * entrypoint *claims* its subscriptions when its exchange starts and *releases* them when the
 * exchange stops. Since a new exchange starts before the old one stops:
 * - same fingerprint: the running consumer is kept (two claims, then one); a subscription in
 *   `failure` is resumed (a redeploy resumes it);
 * - other fingerprint: the running consumer stops (gracefully) and a new one starts;
 * - no new claim: the last release stops it and it leaves its group.
 */
import { WebhookSubscription } from './subscription.ts';
import type { WebhookSpec } from './spec.ts';

export interface WebhookClaim {
  readonly subscription: WebhookSubscription;
  /** Idempotent; stops the consumer when this was its last claim. */
  release(): Promise<void>;
}

interface Entry {
  readonly subscription: WebhookSubscription;
  claims: number;
}

/** How long a stopping consumer's attempt in flight may take before it is cut. */
export const STOP_GRACE_MS = 10_000;

export class WebhookSubscriptions {
  readonly #entries = new Map<string, Entry>();

  async claim(spec: WebhookSpec): Promise<WebhookClaim> {
    const key = `${spec.apiId}/${spec.name}`;
    let entry = this.#entries.get(key);
    if (entry && entry.subscription.fingerprint === spec.fingerprint) {
      entry.claims++;
      entry.subscription.resume();
    } else {
      if (entry) {
        this.#entries.delete(key);
        await entry.subscription.stop(STOP_GRACE_MS);
      }
      entry = { subscription: new WebhookSubscription(spec), claims: 1 };
      this.#entries.set(key, entry);
      entry.subscription.start();
    }
    const claimed = entry;
    let released = false;
    return {
      subscription: claimed.subscription,
      release: async () => {
        if (released) return;
        released = true;
        if (this.#entries.get(key) !== claimed || --claimed.claims > 0) return;
        this.#entries.delete(key);
        await claimed.subscription.stop(STOP_GRACE_MS);
      },
    };
  }

  /** Running subscriptions, by API then name. */
  list(): WebhookSubscription[] {
    return [...this.#entries.values()].map((entry) => entry.subscription).sort((a, b) => a.key.localeCompare(b.key));
  }
}
