/**
 * One webhook subscription on this runtime instance: a consumer from the exchange
 * (`ExchangePort.groupConsumer`: its own endpoint instance consuming in the subscription's group,
 * and the API's subscribe flow), and the callback.
 *
 * Per message: subscribe flow (a dropped message counts as done) -> attempts with backoff
 * (state `retrying` while any message waits for another attempt) -> outcome:
 * - delivered (2xx): done, the group commits it;
 * - refused (3xx/4xx) or out of attempts, with `deadLetter.topic`: published there with the
 *   reason in headers, then done; a dead-letter publish that fails is retried with the same backoff;
 * - refused or out of attempts without a dead-letter topic: the subscription halts in place,
 *   state `failure`, last error recorded. The message stays in hand uncommitted (Kafka: the
 *   position holds, the member keeps its partitions; MQTT: the PUBACK is withheld) and no other
 *   message is delivered until `resume()` (admin port or a redeploy), which retries it first.
 * A message the group wants back (stop, rebalance) is given back uncommitted.
 *
 * Endpoints without group consumption that are not shared (the mock) are read with `subscribe()`,
 * one message at a time, nothing to commit (subscribe/group-consumer.ts). Configuration problems (a missing secret, a host not
 * in --webhook-allowed-hosts) are a `failure` too, retried on resume.
 *
 * `stop()` is graceful: waits and retries end at once, an attempt in flight gets `graceMs`
 * to finish (its 2xx is still committed), then it is cut; the consumer leaves its group.
 *
 * Window: before `startingAt` no consumer runs (state `pending`, `reason` says when it starts);
 * it starts when the window opens, without a deploy. At `endingAt` it stops the same graceful
 * way and stays `stopped` with the reason (a deploy does not restart it).
 *
 * (Over 300 lines: the state machine — halt, resume, retrying, counters — reads best in one class.)
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { WebhookSubscription as WebhookConfig } from '../../../schemas/types.ts';
import type { GroupDelivery, GroupStatus } from '../../endpoints/endpoint.ts';
import type { GroupConsumer } from '../../subscribe/group-consumer.ts';
import type { Message } from '../../../core/message.ts';
import type { Flow } from '../../../core/policies/flow.ts';
import { GatewayError } from '../../../core/errors.ts';
import { resolveSecret } from '../../secrets.ts';
import { log } from '../../log.ts';
import type { TrafficMeter } from '../../metrics/telemetry.ts';
import type { AllowedHost } from './allowed-hosts.ts';
import { createCallback, WebhookConfigError, type Callback, type CallbackResult } from './callback.ts';
import { backoffDelay, deliverWithRetries, retryPolicy, type AttemptFailure, type RetryPolicy } from './attempts.ts';
import { deadLetterMessage } from './dead-letter.ts';
import { outsideWindow, waitUntil } from './window.ts';
import type { Tracing, TraceSpan } from '../../tracing/tracing.ts';
import { callbackSpan, endCallbackSpan, processSpan, withTraceHeaders } from '../../tracing/messaging.ts';

/** How long an attempt in flight at `endingAt` may take before it is cut (as for a stop). */
const END_GRACE_MS = 10_000;

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

export class WebhookSubscription {
  readonly key: string;
  readonly #spec: WebhookSpec;
  readonly #policy: RetryPolicy;
  readonly #log: typeof log;
  readonly #meter: TrafficMeter;
  readonly #stopping = new AbortController();
  readonly #abort = new AbortController();
  readonly #startedAt = new Date();
  #run: Promise<void> | undefined;
  #stopped = false;
  /** Set while outside the window: why nothing is delivered. */
  #reason: string | undefined;
  #ended = false;
  #grace: NodeJS.Timeout | undefined;
  #halt: { readonly resumed: Promise<void>; readonly release: () => void } | undefined;
  #retrying = 0;
  #consumer: GroupStatus | null = null;
  #target: string;
  #counts = { delivered: 0, deadLettered: 0, filtered: 0, retries: 0 };
  #lastError: WebhookStatus['lastError'] = null;
  #lastDeliveredAt: string | null = null;

  constructor(spec: WebhookSpec) {
    this.#spec = spec;
    this.key = `${spec.apiId}/${spec.name}`;
    this.#policy = retryPolicy(spec.webhook.retry);
    this.#log = log.child({ api: spec.apiId, subscription: spec.name, entrypoint: 'webhook' });
    this.#meter = spec.meter;
    this.#target = safeTarget(spec.webhook.callbackUrl);
  }

  get name(): string {
    return this.#spec.name;
  }

  get apiId(): string {
    return this.#spec.apiId;
  }

  get fingerprint(): string {
    return this.#spec.fingerprint;
  }

  get state(): WebhookState {
    if (this.#stopped || this.#ended) return 'stopped';
    if (this.#reason) return 'pending';
    if (this.#halt) return 'failure';
    return this.#retrying > 0 ? 'retrying' : 'started';
  }

  /** Starts consuming in the background; never throws. */
  start(): void {
    if (this.#run) return;
    this.#meter.opened();
    this.#log.info({ event: 'webhook-start', group: this.#spec.group, callback: this.#target }, 'webhook subscription started');
    this.#run = this.#inWindow().catch((error) => this.#log.error({ err: error }, 'webhook subscription loop failed'));
  }

  /** Leaves `failure`: the held message is retried first. False when it was not in failure. */
  resume(): boolean {
    const halt = this.#halt;
    if (!halt) return false;
    this.#halt = undefined;
    this.#log.info({ event: 'webhook-resume' }, 'webhook subscription resumed');
    halt.release();
    return true;
  }

  /** Graceful stop (see the module doc); idempotent. */
  async stop(graceMs = 10_000): Promise<void> {
    this.#stopping.abort();
    const timer = setTimeout(() => this.#abort.abort(), graceMs);
    timer.unref();
    try {
      await this.#run;
    } finally {
      clearTimeout(timer);
      clearTimeout(this.#grace);
    }
    if (!this.#stopped) {
      this.#stopped = true;
      this.#meter.closed();
      this.#log.info({ event: 'webhook-stop', ...this.#counts }, 'webhook subscription stopped');
    }
  }

  status(): WebhookStatus {
    return {
      state: this.state,
      ...(this.#reason ? { reason: this.#reason } : {}),
      plan: this.#spec.planKey,
      callback: this.#target,
      group: this.#spec.group,
      consumer: this.#consumer,
      ...this.#counts,
      lastError: this.#lastError,
      lastDeliveredAt: this.#lastDeliveredAt,
      startedAt: this.#startedAt.toISOString(),
    };
  }

  /** Waits for `startingAt`, runs the loop, and ends it gracefully at `endingAt`. */
  async #inWindow(): Promise<void> {
    const { startingAt, endingAt } = this.#spec;
    const signal = this.#stopping.signal;
    this.#reason = outsideWindow(this.#spec, Date.now());
    if (Date.now() >= endingAt) return this.#end();
    if (this.#reason) {
      this.#log.info({ event: 'webhook-pending', startingAt: new Date(startingAt).toISOString() }, 'webhook subscription waits for its startingAt');
      if (!(await waitUntil(startingAt, signal))) return;
      this.#reason = undefined;
      this.#log.info({ event: 'webhook-window-open' }, 'webhook subscription window opened');
    }
    if (endingAt === Infinity) return this.#loop();
    const ended = new AbortController();
    void waitUntil(endingAt, AbortSignal.any([signal, ended.signal])).then((reached) => {
      if (!reached) return;
      this.#end();
      this.#stopping.abort();
      this.#grace = setTimeout(() => this.#abort.abort(), END_GRACE_MS);
      this.#grace.unref();
    });
    try {
      await this.#loop();
    } finally {
      ended.abort();
    }
  }

  #end(): void {
    this.#ended = true;
    this.#reason = outsideWindow(this.#spec, Math.max(Date.now(), this.#spec.endingAt));
    this.#log.info({ event: 'webhook-window-end', ...this.#counts }, 'webhook subscription reached its endingAt; stopped');
  }

  async #loop(): Promise<void> {
    while (!this.#stopping.signal.aborted) {
      let consumer: GroupConsumer | undefined;
      let callback: Callback | undefined;
      try {
        callback = createCallback(this.#spec.webhook, { resolveSecret, allowedHosts: this.#spec.allowedHosts, concurrency: this.#spec.concurrency });
        this.#target = callback.target;
        consumer = this.#spec.consumer();
        const flow = consumer.flow;
        const deliver = (message: Message, delivery: GroupDelivery) => this.#deliver(message, delivery, flow, callback!);
        await this.#consume(consumer, deliver);
        return;
      } catch (error) {
        if (this.#stopping.signal.aborted) return;
        const code = error instanceof WebhookConfigError || error instanceof GatewayError ? error.code : (error as { code?: string }).code;
        this.#fail({ error: (error as Error).message }, code);
        await this.#waitForResume(this.#stopping.signal);
      } finally {
        callback?.close();
        await consumer?.stop().catch(() => {});
      }
    }
  }

  async #consume(consumer: GroupConsumer, deliver: (message: Message, delivery: GroupDelivery) => Promise<boolean>): Promise<void> {
    const deadLetterTopic = this.#spec.webhook.deadLetter?.topic;
    await consumer.consume({
      group: this.#spec.group,
      concurrency: this.#spec.concurrency,
      maxBytes: this.#spec.maxInFlightBytes,
      commit: this.#spec.commit,
      ...(deadLetterTopic ? { deadLetterTopic } : {}),
      signal: this.#stopping.signal,
      deliver,
      onStatus: (status) => (this.#consumer = status),
    });
  }

  /** One message: true when done (delivered, filtered or dead-lettered), false when given back. Traced: in a process span. */
  async #deliver(message: Message, delivery: GroupDelivery, flow: Flow, callback: Callback): Promise<boolean> {
    const tracing = this.#spec.tracing;
    if (!tracing) return this.#handle(message, delivery, flow, callback, undefined);
    const { apiId, group, name, system } = this.#spec;
    const span = processSpan(tracing, system ?? 'unknown', message, apiId, group, name);
    try {
      const done = await this.#handle(message, delivery, flow, callback, span);
      span.set({ 'sluice.webhook.done': done });
      return done;
    } catch (error) {
      span.fail('INTERNAL', (error as Error).message);
      throw error;
    } finally {
      span.end();
    }
  }

  /** One attempt; traced: in a client span whose traceparent the callback receives. */
  async #post(callback: Callback, message: Message, signal: AbortSignal, span: TraceSpan | undefined, attempt: number): Promise<CallbackResult> {
    const tracing = this.#spec.tracing;
    if (!tracing || !span) return callback.post(message, signal);
    const client = callbackSpan(tracing, span, callback.target, attempt);
    const result = await callback.post(withTraceHeaders(message, client), signal);
    endCallbackSpan(client, result);
    return result;
  }

  async #handle(message: Message, delivery: GroupDelivery, flow: Flow, callback: Callback, span: TraceSpan | undefined): Promise<boolean> {
    const deadLetter = this.#spec.webhook.deadLetter !== undefined;
    while (true) {
      if (this.#halt && !(await this.#waitForResume(delivery.yielding))) return false;
      let out: Message | null;
      try {
        out = flow(message);
      } catch (error) {
        const failure = { error: `the subscribe flow refused the message: ${(error as Error).message}` };
        if (deadLetter) return this.#deadLetter(message, delivery, failure, 0);
        this.#fail(failure, 'POLICY_FAILED');
        continue;
      }
      if (out === null) {
        this.#counts.filtered++;
        this.#meter.dropped('policy', 1);
        return true;
      }
      const ready = out;
      let retrying = false;
      let tries = 0;
      const outcome = await deliverWithRetries((signal) => this.#post(callback, ready, signal, span, ++tries), this.#policy, {
        yielding: delivery.yielding,
        abort: this.#abort.signal,
        onRetry: (failure, attempt, delayMs) => {
          this.#counts.retries++;
          this.#recordError(failure);
          if (!retrying) this.#retrying++;
          retrying = true;
          this.#log.info({ event: 'webhook-retry', attempt, delayMs, status: failure.status, err: failure.error, ...(span ? { trace_id: span.traceId } : {}) }, 'callback failed; retrying');
        },
      }).finally(() => {
        if (retrying) this.#retrying--;
      });
      span?.set({ 'sluice.webhook.outcome': outcome.kind, 'sluice.webhook.attempts': outcome.attempts });
      if (outcome.kind === 'refused' || outcome.kind === 'exhausted') span?.fail(outcome.kind === 'refused' ? 'CALLBACK_REFUSED' : 'CALLBACK_ATTEMPTS_EXHAUSTED', outcome.failure.error);
      if (outcome.kind === 'given-back') return false;
      if (outcome.kind === 'delivered') {
        this.#counts.delivered++;
        this.#lastDeliveredAt = new Date().toISOString();
        this.#meter.delivered(ready.content.length);
        return true;
      }
      if (deadLetter) return this.#deadLetter(ready, delivery, outcome.failure, outcome.attempts);
      // Halt in place; the loop waits for resume, then tries this message again.
      this.#fail(outcome.failure, outcome.kind === 'refused' ? 'CALLBACK_REFUSED' : 'CALLBACK_ATTEMPTS_EXHAUSTED');
    }
  }

  /** Publishes the dead letter, retrying a failed publish with the backoff; false when given back meanwhile. */
  async #deadLetter(message: Message, delivery: GroupDelivery, failure: AttemptFailure, attempts: number): Promise<boolean> {
    const letter = deadLetterMessage(message, { api: this.#spec.apiId, subscription: this.#spec.name, plan: this.#spec.planKey, failure, attempts });
    for (let n = 1; ; n++) {
      try {
        await delivery.deadLetter(letter);
        this.#counts.deadLettered++;
        this.#recordError(failure, 'DEAD_LETTERED');
        this.#log.warn({ event: 'webhook-dead-letter', topic: this.#spec.webhook.deadLetter?.topic, status: failure.status, err: failure.error }, 'message sent to the dead-letter topic');
        return true;
      } catch (error) {
        this.#recordError({ error: `dead letter failed: ${(error as Error).message}` }, 'DEAD_LETTER_FAILED');
        if (delivery.yielding.aborted) return false;
        this.#retrying++;
        try {
          await sleep(backoffDelay({ ...this.#policy, strategy: 'exponential' }, n), undefined, { signal: delivery.yielding });
        } catch {
          return false;
        } finally {
          this.#retrying--;
        }
      }
    }
  }

  #fail(failure: AttemptFailure, code?: string): void {
    this.#recordError(failure, code);
    if (!this.#halt) {
      let release!: () => void;
      const resumed = new Promise<void>((resolve) => (release = resolve));
      this.#halt = { resumed, release };
      this.#meter.failed(new GatewayError(code ?? 'WEBHOOK_FAILURE', failure.status ?? 502, failure.error));
      this.#log.error({ event: 'webhook-failure', code, status: failure.status, err: failure.error }, 'webhook subscription halted (state failure) until resumed');
    }
  }

  /** True once resumed; false when `signal` aborted first. */
  async #waitForResume(signal: AbortSignal): Promise<boolean> {
    const halt = this.#halt;
    if (!halt) return true;
    if (signal.aborted) return false;
    let onAbort!: () => void;
    const aborted = new Promise<false>((resolve) => {
      onAbort = () => resolve(false);
      signal.addEventListener('abort', onAbort, { once: true });
    });
    try {
      return await Promise.race([halt.resumed.then(() => true as const), aborted]);
    } finally {
      signal.removeEventListener('abort', onAbort);
    }
  }

  #recordError(failure: AttemptFailure, code?: string): void {
    this.#lastError = {
      at: new Date().toISOString(),
      message: failure.error,
      ...(failure.status !== undefined ? { status: failure.status } : {}),
      ...(code ? { code } : {}),
    };
  }
}

/** Origin and path only: a query string may carry a token. */
function safeTarget(callbackUrl: string): string {
  try {
    const url = new URL(callbackUrl);
    return `${url.origin}${url.pathname}`;
  } catch {
    return '(invalid URL)';
  }
}
