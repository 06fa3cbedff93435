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
 */
import type { GroupDelivery, GroupStatus } from '../../endpoints/endpoint.ts';
import type { WebhookSpec, WebhookStatus, WebhookState } from './spec.ts';
import { Halt } from './halt.ts';
import type { GroupConsumer } from '../../subscribe/group-consumer.ts';
import type { Message } from '../../../core/message.ts';
import type { Flow } from '../../../core/policies/flow.ts';
import { GatewayError } from '../../../core/errors.ts';
import { resolveSecret } from '../../secrets.ts';
import { log } from '../../log.ts';
import type { TrafficMeter } from '../../metrics/telemetry.ts';
import { createCallback, safeTarget, WebhookConfigError, type Callback, type CallbackResult } from './callback.ts';
import { deliverWithRetries, retryPolicy, type AttemptFailure, type RetryPolicy } from './attempts.ts';
import { deadLetterMessage, publishDeadLetter } from './dead-letter.ts';
import { outsideWindow, waitUntil } from './window.ts';
import type { TraceSpan } from '../../tracing/tracing.ts';
import { processSpan, publishInProducerSpan } from '../../tracing/messaging.ts';
import { inProcessSpan, tracedPost } from './traced.ts';

/** How long an attempt in flight at `endingAt` may take before it is cut (as for a stop). */
const END_GRACE_MS = 10_000;

export type { WebhookSpec, WebhookState, WebhookStatus } from './spec.ts';

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
  readonly #halt = new Halt();
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
    if (this.#halt.halted) return 'failure';
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
    if (!this.#halt.halted) return false;
    this.#log.info({ event: 'webhook-resume' }, 'webhook subscription resumed');
    return this.#halt.resume();
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
        await this.#halt.wait(this.#stopping.signal);
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
    return inProcessSpan(processSpan(tracing, system ?? 'unknown', message, apiId, group, name), (span) => this.#handle(message, delivery, flow, callback, span));
  }

  /** One attempt; traced: in a client span whose traceparent the callback receives. */
  #post(callback: Callback, message: Message, signal: AbortSignal, span: TraceSpan | undefined, attempt: number): Promise<CallbackResult> {
    const tracing = this.#spec.tracing;
    return tracing && span ? tracedPost(tracing, span, callback, message, signal, attempt) : callback.post(message, signal);
  }

  async #handle(message: Message, delivery: GroupDelivery, flow: Flow, callback: Callback, span: TraceSpan | undefined): Promise<boolean> {
    const deadLetter = this.#spec.webhook.deadLetter !== undefined;
    while (true) {
      if (!(await this.#halt.wait(delivery.yielding))) return false;
      let out: Message | null;
      try {
        out = flow(message);
      } catch (error) {
        const failure = { error: `the subscribe flow refused the message: ${(error as Error).message}` };
        if (deadLetter) return this.#deadLetter(message, delivery, failure, 0, span);
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
      if (deadLetter) return this.#deadLetter(ready, delivery, outcome.failure, outcome.attempts, span);
      // Halt in place; the loop waits for resume, then tries this message again.
      this.#fail(outcome.failure, outcome.kind === 'refused' ? 'CALLBACK_REFUSED' : 'CALLBACK_ATTEMPTS_EXHAUSTED');
    }
  }

  /** Publishes the dead letter (retried with the backoff while it fails; traced: each try in a PRODUCER span, child of `span`); false when given back meanwhile. */
  async #deadLetter(message: Message, delivery: GroupDelivery, failure: AttemptFailure, attempts: number, span: TraceSpan | undefined): Promise<boolean> {
    const { apiId, tracing, system } = this.#spec;
    const letter = deadLetterMessage(message, { api: apiId, subscription: this.#spec.name, plan: this.#spec.planKey, failure, attempts });
    const target = { system: system ?? 'unknown', destination: this.#spec.webhook.deadLetter?.topic, apiId };
    const sent = await publishDeadLetter(letter, delivery, this.#policy, {
      failed: (error) => this.#recordError({ error: `dead letter failed: ${error.message}` }, 'DEAD_LETTER_FAILED'),
      waiting: (delta) => (this.#retrying += delta),
      ...(tracing && span ? { publish: (out) => publishInProducerSpan(tracing, target, out, span, (traced) => delivery.deadLetter(traced)) } : {}),
    });
    if (!sent) return false;
    this.#counts.deadLettered++;
    this.#recordError(failure, 'DEAD_LETTERED');
    this.#log.warn({ event: 'webhook-dead-letter', topic: this.#spec.webhook.deadLetter?.topic, status: failure.status, err: failure.error }, 'message sent to the dead-letter topic');
    return true;
  }

  #fail(failure: AttemptFailure, code?: string): void {
    this.#recordError(failure, code);
    if (this.#halt.halt()) {
      this.#meter.failed(new GatewayError(code ?? 'WEBHOOK_FAILURE', failure.status ?? 502, failure.error));
      this.#log.error({ event: 'webhook-failure', code, status: failure.status, err: failure.error }, 'webhook subscription halted (state failure) until resumed');
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
