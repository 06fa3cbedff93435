/**
 * A local OTLP/HTTP trace receiver for tests: a node http server on port 0 that accepts
 * `POST /v1/traces` with an OTLP JSON body (what @opentelemetry/exporter-trace-otlp-http sends),
 * answers 200 `{}` and keeps every span, flattened, with its resource's service.name. Protobuf
 * exports (exporter-trace-otlp-proto) are answered 200 too and kept as raw bodies.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export const KIND = { internal: 1, server: 2, client: 3, producer: 4, consumer: 5 } as const;

export interface ReceivedSpan {
  readonly traceId: string;
  readonly spanId: string;
  /** '' for a root span. */
  readonly parentSpanId: string;
  readonly name: string;
  readonly kind: number;
  readonly attributes: Record<string, string | number | boolean>;
  /** OTLP status code: 0 unset, 1 ok, 2 error. */
  readonly status: number;
  readonly service: string;
}

export interface OtlpReceiver {
  /** http://127.0.0.1:PORT (give it as OTEL_EXPORTER_OTLP_ENDPOINT). */
  readonly url: string;
  readonly spans: ReceivedSpan[];
  /** Requests that were not an OTLP export (path, content type). */
  readonly rejected: string[];
  /** Bodies of the protobuf exports (not decoded: strings such as span names appear in them as UTF-8). */
  readonly protobuf: Buffer[];
  /** Resolves with the spans of `traceId` once `test` holds for them; rejects after `ms` listing what arrived. */
  waitForTrace(traceId: string, test: (spans: ReceivedSpan[]) => boolean, ms: number): Promise<ReceivedSpan[]>;
  close(): Promise<void>;
}

type AnyValue = { stringValue?: string; intValue?: number | string; boolValue?: boolean; doubleValue?: number };
interface OtlpSpan { traceId: string; spanId: string; parentSpanId?: string; name: string; kind: number; attributes?: { key: string; value: AnyValue }[]; status?: { code?: number } }
interface OtlpExport { resourceSpans?: { resource?: { attributes?: { key: string; value: AnyValue }[] }; scopeSpans?: { spans?: OtlpSpan[] }[] }[] }

const valueOf = (v: AnyValue): string | number | boolean =>
  v.stringValue ?? (v.intValue !== undefined ? Number(v.intValue) : undefined) ?? v.boolValue ?? v.doubleValue ?? '';

/** OTLP JSON ids are hex; accept base64 too (the protobuf-JSON mapping). */
const hex = (id: string | undefined): string => (!id ? '' : /^[0-9a-f]+$/i.test(id) ? id.toLowerCase() : Buffer.from(id, 'base64').toString('hex'));

export async function startOtlpReceiver(): Promise<OtlpReceiver> {
  const spans: ReceivedSpan[] = [];
  const rejected: string[] = [];
  const protobuf: Buffer[] = [];
  const waiters = new Set<() => void>();
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const type = req.headers['content-type'] ?? '';
      if (req.method === 'POST' && req.url === '/v1/traces' && type === 'application/x-protobuf') {
        protobuf.push(Buffer.concat(chunks));
        res.writeHead(200, { 'content-type': 'application/x-protobuf' }).end();
        return;
      }
      if (req.method !== 'POST' || req.url !== '/v1/traces' || !type.includes('json')) {
        rejected.push(`${req.method} ${req.url} ${type}`);
        res.writeHead(415).end();
        return;
      }
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as OtlpExport;
      for (const resourceSpans of body.resourceSpans ?? []) {
        const resource = Object.fromEntries((resourceSpans.resource?.attributes ?? []).map((a) => [a.key, valueOf(a.value)]));
        for (const scope of resourceSpans.scopeSpans ?? []) {
          for (const span of scope.spans ?? []) {
            spans.push({
              traceId: hex(span.traceId),
              spanId: hex(span.spanId),
              parentSpanId: hex(span.parentSpanId),
              name: span.name,
              kind: span.kind,
              attributes: Object.fromEntries((span.attributes ?? []).map((a) => [a.key, valueOf(a.value)])),
              status: span.status?.code ?? 0,
              service: String(resource['service.name'] ?? ''),
            });
          }
        }
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      for (const wake of [...waiters]) wake();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    spans,
    rejected,
    protobuf,
    waitForTrace(traceId, test, ms) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const found = spans.filter((s) => s.traceId === traceId);
          if (!test(found)) return;
          done();
          resolve(found);
        };
        const timer = setTimeout(() => {
          done();
          const found = spans.filter((s) => s.traceId === traceId).map((s) => `${s.name} kind ${s.kind} ${s.spanId}<-${s.parentSpanId}`);
          reject(new Error(`timed out after ${ms} ms waiting for the spans of trace ${traceId}; got: ${JSON.stringify(found)} (all: ${spans.length}, rejected: ${rejected.join('; ')})`));
        }, ms);
        const done = () => {
          clearTimeout(timer);
          waiters.delete(check);
        };
        waiters.add(check);
        check();
      });
    },
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}
