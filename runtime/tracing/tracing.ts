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

export type { TraceAttributes, TraceCarrier, TraceKind, TraceSpan, Tracing } from './tracer.ts';
import type { Tracing } from './tracer.ts';

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
