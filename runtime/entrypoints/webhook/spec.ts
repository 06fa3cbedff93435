/** What a webhook subscription is built from (WebhookSpec) and what it reports (WebhookStatus); subscription.ts runs it. */
import type { WebhookSubscription as WebhookConfig } from '../../../schemas/types.ts';
import type { GroupStatus } from '../../endpoints/endpoint.ts';
import type { GroupConsumer } from '../../subscribe/group-consumer.ts';
import type { TrafficMeter } from '../../metrics/telemetry.ts';
import type { Tracing } from '../../tracing/tracing.ts';
import type { AllowedHost } from './allowed-hosts.ts';

export interface WebhookSpec {
  readonly apiId: string;
  /** The subscription (application) name. */
  readonly name: string;
  readonly planKey: string;
  /** Consumer group / share name, the same on every instance. */
  readonly group: string;
  readonly webhook: WebhookConfig;
  /** A new consumer of the API's subscribing endpoint, with the subscribe flow (the exchange's `groupConsumer`); one per run of the loop. */
  readonly consumer: () => GroupConsumer;
  /** Where its traffic is counted: the gateway's meter of (API, `webhook`). */
  readonly meter: TrafficMeter;
  /** The gateway's `--webhook-allowed-hosts` (absent: any host). */
  readonly allowedHosts?: readonly AllowedHost[];
  readonly concurrency: number;
  /** Bytes of fetched messages held awaiting delivery (the API's fanout.maxQueuedBytes). */
  readonly maxInFlightBytes: number;
  readonly commit: 'after' | 'before';
  /** Equal fingerprints: the same consumer keeps running across deploys. */
  readonly fingerprint: string;
  /** The subscription's window, epoch ms (-Infinity / +Infinity when unbounded). */
  readonly startingAt: number;
  readonly endingAt: number;
  /** The gateway's tracer: a process span per message, a client span per attempt (absent/null: none). */
  readonly tracing?: Tracing | null;
  /** The subscribing endpoint's type (the spans' messaging.system). */
  readonly system?: string;
}

export type WebhookState = 'pending' | 'started' | 'retrying' | 'failure' | 'stopped';

export interface WebhookStatus {
  readonly state: WebhookState;
  /** Why it is `pending` or `stopped` by its window; absent otherwise. */
  readonly reason?: string;
  readonly plan: string;
  readonly callback: string;
  readonly group: string;
  readonly consumer: GroupStatus | null;
  readonly delivered: number;
  readonly deadLettered: number;
  /** Dropped by the subscribe flow. */
  readonly filtered: number;
  /** Failed attempts that were retried. */
  readonly retries: number;
  readonly lastError: { readonly at: string; readonly message: string; readonly status?: number; readonly code?: string } | null;
  readonly lastDeliveredAt: string | null;
  readonly startedAt: string;
}
