/**
 * Fanout: one upstream subscription per API (per runtime instance) shared by all its clients.
 * Each client has a bounded queue; when it is full the API's slow-consumer policy applies:
 * `disconnect` ends that client's iteration with SLOW_CONSUMER (WebSocket 1013) and logs it,
 * `drop-oldest` drops its oldest queued message and counts it. The first client starts the
 * upstream, the last one leaving aborts it (one acquire, one release). Subscribe flows run once
 * per upstream message, before the queues, and every client gets the same Delivery (encode once).
 *
 * Write coalescing: the deliveries of one turn of the event loop (a Kafka fetch, the MQTT packets of
 * one TCP read, a burst) are handed to the clients together at the end of that turn (setImmediate,
 * never a timer), so each client gets them with one write; a lone message goes out at the end of
 * the turn it arrived in. A turn holds at most TURN_MESSAGES messages / TURN_BYTES bytes (then it
 * is handed on at once), a client attaching or the upstream ending hands on what is pending first.
 */
import type { ChannelParams, Endpoint } from '../endpoints/endpoint.ts';
import type { Flow } from '../../core/policies/flow.ts';
import type { FlowContext, Message } from '../../core/message.ts';
import { Delivery } from './delivery.ts';
import { ChannelIndex, type ChannelFilter } from './channel-index.ts';
import { GatewayError } from '../../core/errors.ts';
import { asGatewayError } from '../entrypoints/entrypoint.ts';
import { ClientQueue, type FanoutSettings, type QueuedBytes } from './client-queue.ts';
import type { Tally, Telemetry, UpstreamMeter } from '../metrics/telemetry.ts';
import { log } from '../log.ts';
import type { Abortable } from '../abortable.ts';
import type { Tracing } from '../tracing/tracing.ts';
import { deliverSpan } from '../tracing/messaging.ts';
import type { TraceSpan } from '../tracing/tracing.ts';

/** Most messages, and bytes of content, one turn gathers before they are handed to the clients. */
const TURN_MESSAGES = 64;
const TURN_BYTES = 64 * 1024;

export { ClientQueue, pipeable, type DeliverySink, type FanoutSettings } from './client-queue.ts';

/**
 * A client on a channel (context path template) or with a caller-dependent flow: `accepts` is its
 * channel filter over upstream messages (MQTT topic, Kafka key), `context` what a per-caller flow sees.
 */
export interface ChannelMember extends ChannelFilter {
  readonly context: FlowContext;
}

/**
 * One turn's deliveries, not yet handed to the clients, with their upstream messages (index for
 * index: what the channel filters read) and trace spans. Only `add` grows it; a flush takes it whole.
 */
class Turn {
  readonly deliveries: Delivery[] = [];
  readonly messages: Message[] = [];
  /** Made at the first traced message. */
  spans: TraceSpan[] | undefined;
  #bytes = 0;

  /** Adds one; true when the turn is full (TURN_MESSAGES messages or TURN_BYTES bytes of content). */
  add(delivery: Delivery, message: Message, span: TraceSpan | undefined): boolean {
    this.deliveries.push(delivery);
    this.messages.push(message);
    if (span) (this.spans ??= []).push(span);
    this.#bytes += message.content.length;
    return this.deliveries.length >= TURN_MESSAGES || this.#bytes >= TURN_BYTES;
  }
}

export class Fanout {
  /** Every client, with its channel membership (undefined: the client takes every message). */
  readonly #clients = new Map<ClientQueue, ChannelMember | undefined>();
  readonly #queued: QueuedBytes = { bytes: 0 };
  readonly #index: ChannelIndex;
  #turn = new Turn();
  #flushScheduled = false;
  #upstream: AbortController | undefined;
  /** Counts the messages the upstream subscription received (sluice_upstream_messages_total). */
  readonly #received: UpstreamMeter;
  /** What each client queue calls when it is done (one function for all of them). */
  readonly #detached = (queue: ClientQueue) => this.#detach(queue);
  /** How many upstream subscriptions were ever opened (observability, tests). */
  upstreamSubscriptions = 0;

  constructor(
    private readonly endpoint: Endpoint,
    private readonly flow: Flow,
    private readonly settings: FanoutSettings,
    private readonly apiId: string,
    /** The gateway's telemetry (message and drop events). */
    private readonly telemetry: Telemetry,
    /** The gateway's tracer: a `deliver` span per traced message (tracing/messaging.ts). */
    private readonly tracing: Tracing | null = null,
    /** The channel this fanout serves, for an endpoint with an upstream per channel (channel-fanouts.ts). */
    private readonly params?: ChannelParams,
  ) {
    this.#index = new ChannelIndex(endpoint.channelKeyOf?.bind(endpoint));
    this.#received = telemetry.upstreamMeterFor(apiId, endpoint.type);
  }

  /**
   * A new client; its iteration ends when `signal` aborts, the upstream ends, or it is too slow.
   * `onFailure` is called at once when the client fails (slow consumer, upstream error), even
   * while its consumer is not waiting on the queue. `tally` counts the client's traffic (metrics).
   */
  attach(signal: Abortable, onFailure?: (reason: unknown) => void, tally?: Tally, member?: ChannelMember): ClientQueue {
    const queue = new ClientQueue(this.settings, this.#detached, this.apiId, this.telemetry, onFailure, tally, this.#queued);
    if (signal.aborted) {
      queue.end();
      return queue;
    }
    // What arrived before this client does not go to it.
    this.#flush();
    this.#clients.set(queue, member);
    this.#index.add(queue, member);
    // The queue is the listener (ClientQueue.handleEvent ends it): no closure per client. Removed
    // when the queue is done, so a queue that ended first (a resuming client's abandoned hand-over
    // attempt) is not held until its signal aborts.
    queue.abortedBy = signal;
    signal.addEventListener('abort', queue, { once: true });
    if (!this.#upstream) this.#startUpstream();
    return queue;
  }

  get clients(): number {
    return this.#clients.size;
  }

  get upstreamActive(): boolean {
    return this.#upstream !== undefined;
  }

  /**
   * Bytes held in this fanout's client queues now, each delivery counted once however many queues
   * hold it (its content and the encodings built when it was first queued). Bytes already written
   * to sockets are not in it.
   */
  get queuedBytes(): number {
    return this.#queued.bytes;
  }

  /** The largest queue any current client has had (bounded by queueSize). */
  maxQueued(): number {
    let max = 0;
    for (const queue of this.#clients.keys()) max = Math.max(max, queue.highWater);
    return max;
  }

  /** Ends every client with this reason and aborts the upstream. */
  close(reason: unknown): void {
    this.#flush();
    for (const queue of [...this.#clients.keys()]) queue.fail(reason);
    this.#stopUpstream();
  }

  #detach(queue: ClientQueue): void {
    queue.abortedBy?.removeEventListener('abort', queue);
    queue.abortedBy = undefined;
    if (!this.#clients.delete(queue)) return;
    this.#index.delete(queue);
    if (this.#clients.size === 0) this.#stopUpstream();
  }

  #stopUpstream(): void {
    const upstream = this.#upstream;
    this.#upstream = undefined;
    upstream?.abort();
  }

  #startUpstream(): void {
    const controller = new AbortController();
    this.#upstream = controller;
    this.upstreamSubscriptions++;
    void this.#pump(controller);
  }

  /**
   * A flow whose conditions read `request`/`caller`: run once per client of the message's channel,
   * with that client's context, each output its own Delivery (encoded per client). The cost grows
   * with the clients on the channel, not with the API's other clients (docs/guides/channels.md).
   */
  #perCaller(message: Message): void {
    let delivered = false;
    // keys() and get(): an entries() loop makes a [queue, member] pair per client (measurably slower).
    for (const queue of this.#clients.keys()) {
      const member = this.#clients.get(queue);
      if (member?.accepts && !member.accepts(message)) continue;
      const out = this.flow(member ? Object.freeze({ ...message, context: member.context }) : message);
      if (out === null) {
        this.telemetry.emit({ kind: 'dropped', api: this.apiId, reason: 'policy', count: 1 });
        queue.tally.dropped('policy', 1);
        continue;
      }
      const { context: _context, ...plain } = out;
      queue.push(new Delivery(Object.freeze(plain)));
      delivered = true;
    }
    if (delivered) this.telemetry.emit({ kind: 'message', api: this.apiId, direction: 'subscribe' });
  }

  /** Adds a delivery to this turn's; the turn is handed on at its end, or now when it is full. */
  #gather(delivery: Delivery, message: Message, span: TraceSpan | undefined): void {
    if (this.#turn.add(delivery, message, span)) this.#flush();
    else if (!this.#flushScheduled) {
      this.#flushScheduled = true;
      setImmediate(() => {
        this.#flushScheduled = false;
        this.#flush();
      });
    }
  }

  /** Hands this turn's deliveries to the clients (each client's in one batch: one write). */
  #flush(): void {
    const turn = this.#turn;
    if (turn.deliveries.length === 0) return;
    this.#turn = new Turn();
    this.#index.deliver(turn.deliveries, turn.messages);
    if (turn.spans) for (const span of turn.spans) span.end();
  }

  async #pump(controller: AbortController): Promise<void> {
    try {
      for await (const message of this.endpoint.subscribe({ signal: controller.signal, ...(this.params ? { params: this.params } : {}) })) {
        if (controller.signal.aborted) break;
        this.#received.received();
        if (this.flow.perCaller) {
          this.#perCaller(message);
          continue;
        }
        const out = this.flow(message);
        if (out === null) {
          this.telemetry.emit({ kind: 'dropped', api: this.apiId, reason: 'policy', count: 1 });
          for (const queue of this.#clients.keys()) queue.tally.dropped('policy', 1);
          continue;
        }
        this.telemetry.emit({ kind: 'message', api: this.apiId, direction: 'subscribe' });
        const span = this.tracing ? deliverSpan(this.tracing, this.endpoint.type, out, this.apiId, this.#clients.size) : undefined;
        this.#gather(new Delivery(out), message, span);
      }
      this.#flush();
      if (!controller.signal.aborted && this.#upstream === controller) {
        this.#upstream = undefined;
        for (const queue of [...this.#clients.keys()]) queue.end();
      }
    } catch (error) {
      if (controller.signal.aborted || this.#upstream !== controller) return;
      this.#flush();
      // A coded failure (broker lost) is logged once by its endpoint and once per client (warn): not again here.
      if (error instanceof GatewayError) log.debug({ api: this.apiId, code: error.code }, 'upstream subscription failed');
      else log.error({ api: this.apiId, err: error }, 'upstream subscription failed');
      this.#upstream = undefined;
      const reason = asGatewayError(error);
      for (const queue of [...this.#clients.keys()]) queue.fail(reason);
    }
  }
}
