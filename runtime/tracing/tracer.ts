/**
 * What runtime/ sees of tracing: a gateway's Tracing and its spans, with no OpenTelemetry type
 * (otel.ts implements them with the SDK; tracing.ts loads it).
 */

/** OTel span kinds used by the gateway. */
export type TraceKind = 'server' | 'client' | 'producer' | 'consumer';

export type TraceAttributes = Readonly<Record<string, string | number | boolean | undefined>>;

/** Headers that may carry a W3C `traceparent` (and `tracestate`): an HTTP request's, or a message's. */
export type TraceCarrier = Readonly<Record<string, string | readonly string[] | undefined>>;

export interface TraceSpan {
  /** 32 lower-case hex digits (for log lines). */
  readonly traceId: string;
  readonly spanId: string;
  /** `traceparent` (and `tracestate` when there is one) naming this span: what goes downstream. */
  headers(): Record<string, string>;
  set(attributes: TraceAttributes): void;
  rename(name: string): void;
  /** Marks the span failed (status ERROR) with `error.type` = code. */
  fail(code: string, message?: string): void;
  end(): void;
}

export interface Tracing {
  /**
   * A started span. `parent`: a span of this gateway, or headers carrying a W3C traceparent (the
   * remote parent); none, or headers without a valid traceparent: a new trace.
   */
  start(name: string, kind: TraceKind, attributes: TraceAttributes, parent?: TraceSpan | TraceCarrier): TraceSpan;
  /** Does this carrier hold a traceparent? (cheap: a header lookup) */
  carries(carrier: TraceCarrier): boolean;
  /** Where spans go (origin and path, for the start-up log line). */
  readonly target: string;
  /** Exports the spans still buffered (bounded wait) and stops. */
  shutdown(): Promise<void>;
}
