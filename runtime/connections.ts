/**
 * Open requests and connections of one exchange, so a deploy or shutdown can end them.
 * Every `open` has exactly one `release` (the server does both around an entrypoint's handle/upgrade).
 * The tracker is also where traffic is metered: a connection is the Tally of its client (pre-bound
 * to its API and entrypoint), and opening/releasing counts connections.
 */
import type { Caller } from './plans/plan.ts';
import { asGatewayError, errors, type GatewayError } from '../core/errors.ts';
import type { Meters, Tally, TrafficMeter } from './metrics/telemetry.ts';
import type { TraceSpan } from './tracing/tracing.ts';
import type { Abortable, AbortListener } from './abortable.ts';
import { log } from './log.ts';

/** The longest delay a node timer takes (a longer one fires at once). */
const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * One client's request or stream. It is its own abort signal (Abortable): an AbortController is made
 * only when `signal` is read (an HTTP request, a subscription of its own), never for an idle
 * subscriber of a shared one (see abortable.ts).
 */
export class Connection implements Tally, Abortable {
  /** Messages delivered to or published by this client; entrypoints count, the log line reports. */
  messages = 0;
  /** How a WebSocket ended (for the log line). */
  closeCode?: number;
  /** The first error that ended this client's stream or request (for the log line's code and level). */
  failure?: GatewayError;
  readonly openedAt = Date.now();
  /** The request's SERVER span (tracing on): the parent of what this client publishes. */
  span?: TraceSpan;
  #aborted = false;
  #reason: unknown;
  /** The abort listeners: none, one, or several. */
  #listeners: AbortListener | AbortListener[] | undefined;
  #controller: AbortController | undefined;
  #expiry?: NodeJS.Timeout;
  /** The last failure counted, so an error rethrown along the same path counts once. */
  #counted: unknown;

  constructor(
    readonly entrypoint: string,
    readonly caller: Caller,
    /** This connection's API and entrypoint meter (noTrafficMeter without metrics). */
    readonly meter: TrafficMeter,
  ) {
    if (caller.expiresAt !== undefined) this.#expireAt(caller.expiresAt);
  }

  /** Aborts with CREDENTIAL_EXPIRED at `at`; a timer waits at most ~24.8 days, so a later one re-arms. */
  #expireAt(at: number): void {
    const ms = at - Date.now();
    if (ms <= 0) return this.abort(errors.credentialExpired());
    this.#expiry = setTimeout(() => (ms > MAX_TIMER_MS ? this.#expireAt(at) : this.abort(errors.credentialExpired())), Math.min(ms, MAX_TIMER_MS));
  }

  /**
   * Aborted when this connection must end; `reason` says why: a GatewayError (SERVICE_RESTART ->
   * 1012, GATEWAY_STOPPING -> 1013, CREDENTIAL_EXPIRED -> 1008) or CLIENT_GONE.
   */
  get aborted(): boolean {
    return this.#aborted;
  }

  get reason(): unknown {
    return this.#reason;
  }

  addEventListener(_type: 'abort', listener: AbortListener): void {
    if (this.#aborted) return;
    const listeners = this.#listeners;
    if (listeners === undefined) this.#listeners = listener;
    else if (Array.isArray(listeners)) listeners.push(listener);
    else this.#listeners = [listeners, listener];
  }

  removeEventListener(_type: 'abort', listener: AbortListener): void {
    const listeners = this.#listeners;
    if (listeners === listener) this.#listeners = undefined;
    else if (Array.isArray(listeners)) {
      const at = listeners.indexOf(listener);
      if (at !== -1) listeners.splice(at, 1);
    }
  }

  /** The same as an AbortSignal, for APIs that take one (made on first use). */
  get signal(): AbortSignal {
    if (this.#controller === undefined) {
      this.#controller = new AbortController();
      if (this.#aborted) this.#controller.abort(this.#reason);
    }
    return this.#controller.signal;
  }

  /** Idempotent: the first reason wins. Listeners run in the order they were added. */
  abort(reason: unknown): void {
    clearTimeout(this.#expiry);
    if (this.#aborted) return;
    this.#aborted = true;
    this.#reason = reason;
    const listeners = this.#listeners;
    this.#listeners = undefined;
    this.#controller?.abort(reason);
    if (listeners === undefined) return;
    for (const listener of Array.isArray(listeners) ? listeners : [listeners]) {
      // As an EventTarget: one listener's throw neither stops the others nor reaches the caller.
      try {
        if (typeof listener === 'function') listener();
        else listener.handleEvent();
      } catch (error) {
        log.error({ err: error, entrypoint: this.entrypoint }, 'connection abort listener failed');
      }
    }
  }

  /** Called by the tracker on release. */
  dispose(): void {
    clearTimeout(this.#expiry);
  }

  received(bytes: number): void {
    this.meter.received(bytes);
  }

  delivered(bytes: number): void {
    this.meter.delivered(bytes);
  }

  dropped(reason: 'policy' | 'slow-consumer', count: number): void {
    this.meter.dropped(reason, count);
  }

  /** Counts an error once, however many layers rethrow it. */
  failed(error: unknown): void {
    if (error === this.#counted) return;
    this.#counted = error;
    this.failure ??= asGatewayError(error);
    this.meter.failed(error);
  }
}

export class Connections {
  readonly #open = new Set<Connection>();
  /** Each Caller is made for one request: the exchange finds the connection (its Tally) by it. */
  readonly #byCaller = new WeakMap<Caller, Connection>();
  #waiters: (() => void)[] = [];
  #drained: unknown;

  /** `apiId` labels the connections' meters, taken from `meters` (the gateway's telemetry). */
  constructor(
    readonly apiId: string,
    private readonly meters: Meters,
  ) {}

  /** A connection opened after `abortAll` (a late handshake on a dropped exchange) is aborted at once with the same reason. */
  open(entrypoint: string, caller: Caller): Connection {
    const connection = new Connection(entrypoint, caller, this.meters.trafficMeterFor(this.apiId, entrypoint));
    this.#open.add(connection);
    this.#byCaller.set(caller, connection);
    connection.meter.opened();
    if (this.#drained !== undefined) connection.abort(this.#drained);
    return connection;
  }

  /** The open connection a caller was admitted with (undefined for background consumers such as webhooks). */
  of(caller: Caller): Connection | undefined {
    return this.#byCaller.get(caller);
  }

  release(connection: Connection): void {
    connection.dispose();
    if (!this.#open.delete(connection)) return;
    this.#byCaller.delete(connection.caller);
    connection.meter.closed();
    if (this.#open.size === 0) {
      const waiters = this.#waiters;
      this.#waiters = [];
      for (const wake of waiters) wake();
    }
  }

  /** The open connections now (a copy: aborting one while iterating is fine). */
  list(): Connection[] {
    return [...this.#open];
  }

  /** Ends every open connection with this reason (each entrypoint closes its own way). */
  abortAll(reason: unknown): void {
    this.#drained ??= reason;
    for (const connection of this.#open) connection.abort(reason);
  }

  get size(): number {
    return this.#open.size;
  }

  /** Open connections per entrypoint type. */
  byEntrypoint(): Record<string, number> {
    const counts: Record<string, number> = {};
    for (const connection of this.#open) counts[connection.entrypoint] = (counts[connection.entrypoint] ?? 0) + 1;
    return counts;
  }

  /** Resolves once no connection is open. */
  whenEmpty(): Promise<void> {
    if (this.#open.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.#waiters.push(resolve));
  }
}

/**
 * What a subscription calls when it fails (SubscribeRequest.onFailure): aborts the connection with
 * the reason. Made here, so that the closure holds the connection alone, not the scope of the
 * request that made it (it lives as long as the subscription).
 */
export function abortsOnFailure(connection: Connection): (reason: unknown) => void {
  return (reason) => connection.abort(reason);
}
