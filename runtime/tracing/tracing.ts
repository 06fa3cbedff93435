/**
 * Traces (OpenTelemetry), per gateway. `tracingFromEnv` reads the standard OTel variables: with
 * `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` or `OTEL_EXPORTER_OTLP_ENDPOINT` set (and `OTEL_SDK_DISABLED`
 * not true, `OTEL_TRACES_EXPORTER` not `none`) it loads the SDK (a dynamic import of otel.ts) and
 * returns a Tracing that exports spans over OTLP/HTTP; otherwise null, and no SDK module is ever
 * loaded. The gateway holds the result on its GatewayState: every traced place in runtime/ costs
 * one null check when tracing is off.
 *
 * This module names no OpenTelemetry type: the rest of runtime/ sees only Tracing and TraceSpan.
 * Spans and attributes follow the OTel HTTP and messaging semantic conventions; see
 * docs/reference/tracing.md for which span is made where.
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

type Env = Readonly<Record<string, string | undefined>>;

/** Is tracing asked for by these variables? */
export function tracingConfigured(env: Env): boolean {
  const endpoint = env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT || env.OTEL_EXPORTER_OTLP_ENDPOINT;
  if (!endpoint) return false;
  if ((env.OTEL_SDK_DISABLED ?? '').trim().toLowerCase() === 'true') return false;
  return (env.OTEL_TRACES_EXPORTER ?? 'otlp').trim().toLowerCase() !== 'none';
}

/** The gateway's Tracing for these variables, or null (then nothing of the SDK is loaded). Throws an Error naming the variable when one is unusable. */
export async function tracingFromEnv(env: Env = process.env): Promise<Tracing | null> {
  if (!tracingConfigured(env)) return null;
  const { createTracing } = await import('./otel.ts');
  return createTracing(env);
}
