/**
 * The OpenTelemetry SDK behind Tracing, loaded only by `tracingFromEnv` when tracing is asked for.
 *
 * One BasicTracerProvider per gateway (never registered globally: no global tracer, context
 * manager or propagator is installed, so two gateways in one process stay apart), a
 * BatchSpanProcessor (bounded queue: OTEL_BSP_MAX_QUEUE_SIZE, default 2048 spans; spans past it
 * are dropped, never held) and the OTLP/HTTP exporter for OTEL_EXPORTER_OTLP_(TRACES_)PROTOCOL:
 * `http/protobuf` (the default, as the OTel specification says) or `http/json`, each package
 * imported only when chosen; it reads the other OTEL_EXPORTER_OTLP_* variables itself (headers,
 * timeout). Sampling: OTEL_TRACES_SAMPLER (default
 * parentbased_always_on). Resource: service.name from OTEL_SERVICE_NAME (default `sluice`) and
 * OTEL_RESOURCE_ATTRIBUTES. Contexts are passed explicitly (a parent span or a carrier's
 * traceparent), never through async-local storage.
 */
import { ROOT_CONTEXT, SpanKind, SpanStatusCode, defaultTextMapGetter, defaultTextMapSetter, trace, type Context, type Span } from '@opentelemetry/api';
import { ExportResultCode, W3CTraceContextPropagator } from '@opentelemetry/core';
import { detectResources, envDetector, resourceFromAttributes } from '@opentelemetry/resources';
import { BasicTracerProvider, BatchSpanProcessor, type SpanExporter } from '@opentelemetry/sdk-trace-base';
import { log } from '../log.ts';
import type { TraceAttributes, TraceCarrier, TraceKind, TraceSpan, Tracing } from './tracer.ts';

type Env = Readonly<Record<string, string | undefined>>;

const KINDS: Record<TraceKind, SpanKind> = {
  server: SpanKind.SERVER,
  client: SpanKind.CLIENT,
  producer: SpanKind.PRODUCER,
  consumer: SpanKind.CONSUMER,
};

/** How long shutdown waits for the last export. */
const SHUTDOWN_WAIT_MS = 3_000;

const propagator = new W3CTraceContextPropagator();

class OtelSpan implements TraceSpan {
  constructor(readonly span: Span) {}

  get traceId(): string {
    return this.span.spanContext().traceId;
  }

  get spanId(): string {
    return this.span.spanContext().spanId;
  }

  get context(): Context {
    return trace.setSpan(ROOT_CONTEXT, this.span);
  }

  headers(): Record<string, string> {
    const carrier: Record<string, string> = {};
    propagator.inject(this.context, carrier, defaultTextMapSetter);
    return carrier;
  }

  set(attributes: TraceAttributes): void {
    for (const [name, value] of Object.entries(attributes)) if (value !== undefined) this.span.setAttribute(name, value);
  }

  rename(name: string): void {
    this.span.updateName(name);
  }

  fail(code: string, message?: string): void {
    this.span.setAttribute('error.type', code);
    this.span.setStatus({ code: SpanStatusCode.ERROR, ...(message ? { message } : {}) });
  }

  end(): void {
    this.span.end();
  }
}

/** The traces URL the exporter posts to, without query or credentials (for the log). */
function tracesTarget(env: Env): string {
  const specific = env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT;
  const name = specific ? 'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT' : 'OTEL_EXPORTER_OTLP_ENDPOINT';
  const raw = (specific || env.OTEL_EXPORTER_OTLP_ENDPOINT || '').trim();
  let url: URL;
  try {
    url = new URL(specific ? raw : `${raw.replace(/\/+$/, '')}/v1/traces`);
  } catch {
    throw new Error(`${name} is not a URL: give the collector's OTLP/HTTP address, e.g. http://localhost:4318`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error(`${name} must be an http:// or https:// URL (traces are sent over OTLP/HTTP)`);
  return url.href;
}

/** The OTLP/HTTP exporter the protocol variables ask for (default http/protobuf). */
async function exporterFor(env: Env, url: string): Promise<SpanExporter> {
  const name = env.OTEL_EXPORTER_OTLP_TRACES_PROTOCOL?.trim() ? 'OTEL_EXPORTER_OTLP_TRACES_PROTOCOL' : 'OTEL_EXPORTER_OTLP_PROTOCOL';
  const protocol = env[name]?.trim() || 'http/protobuf';
  if (protocol === 'http/protobuf') return new (await import('@opentelemetry/exporter-trace-otlp-proto')).OTLPTraceExporter({ url });
  if (protocol === 'http/json') return new (await import('@opentelemetry/exporter-trace-otlp-http')).OTLPTraceExporter({ url });
  throw new Error(`${name}=${protocol} is not supported: Sluice sends traces over OTLP/HTTP; give http/protobuf (the default) or http/json`);
}

/** The exporter, with its failures logged once per change (the SDK reports them only to its own diag logger). */
function loggingExporter(inner: SpanExporter, target: string): SpanExporter {
  let failing = false;
  return {
    export(spans, done) {
      inner.export(spans, (result) => {
        if (result.code !== ExportResultCode.SUCCESS && !failing) {
          failing = true;
          log.warn({ event: 'trace-export-failed', target, err: result.error?.message }, 'spans could not be exported; retrying with the next batch');
        } else if (result.code === ExportResultCode.SUCCESS && failing) {
          failing = false;
          log.info({ event: 'trace-export-recovered', target }, 'spans are exported again');
        }
        done(result);
      });
    },
    shutdown: () => inner.shutdown(),
    forceFlush: () => inner.forceFlush?.() ?? Promise.resolve(),
  };
}

export async function createTracing(env: Env): Promise<Tracing> {
  const target = tracesTarget(env);
  const inner = await exporterFor(env, target);
  const resource = resourceFromAttributes({ 'service.name': env.OTEL_SERVICE_NAME?.trim() || 'sluice' })
    .merge(detectResources({ detectors: [envDetector] }));
  const exporter = loggingExporter(inner, target);
  const provider = new BasicTracerProvider({ resource, spanProcessors: [new BatchSpanProcessor(exporter)] });
  const tracer = provider.getTracer('sluice');
  let shutdown: Promise<void> | undefined;

  const parentContext = (parent: TraceSpan | TraceCarrier | undefined): Context => {
    if (parent === undefined) return ROOT_CONTEXT;
    if (parent instanceof OtelSpan) return parent.context;
    return propagator.extract(ROOT_CONTEXT, parent, defaultTextMapGetter);
  };

  return {
    target,
    start(name, kind, attributes, parent) {
      const defined: Record<string, string | number | boolean> = {};
      for (const [key, value] of Object.entries(attributes)) if (value !== undefined) defined[key] = value;
      return new OtelSpan(tracer.startSpan(name, { kind: KINDS[kind], attributes: defined }, parentContext(parent)));
    },
    carries: (carrier) => carrier.traceparent !== undefined,
    shutdown() {
      shutdown ??= Promise.race([
        provider.shutdown().catch((error: Error) => log.warn({ err: error.message }, 'trace exporter shutdown failed')),
        new Promise<void>((resolve) => setTimeout(resolve, SHUTDOWN_WAIT_MS).unref()),
      ]);
      return shutdown;
    },
  };
}
