/**
 * The SERVER span of one request or WebSocket connection (OTel HTTP semantic conventions): started
 * when the request arrives, child of the client's `traceparent` when it sent one, ended with what
 * the request's log line says. Named `METHOD <context path>` once routed, `METHOD` otherwise.
 */
import type { IncomingMessage } from 'node:http';
import type { Tracing, TraceSpan } from './tracing.ts';

export function serverSpan(tracing: Tracing, req: IncomingMessage, path: string, client: string, secure: boolean): TraceSpan {
  const method = req.method ?? 'GET';
  return tracing.start(method, 'server', {
    'http.request.method': method,
    'url.path': path,
    'url.scheme': secure ? 'https' : 'http',
    'client.address': client,
    'user_agent.original': req.headers['user-agent'],
    'network.protocol.version': req.httpVersion,
  }, req.headers);
}

/** What the request ended with (the log line's fields). */
export interface ServerOutcome {
  readonly method: string | undefined;
  readonly path: string;
  /** The routed API's context paths (absent: not routed). */
  readonly contextPaths: readonly string[] | undefined;
  readonly requestId: string;
  readonly api: string | null;
  readonly entrypoint: string | null;
  readonly plan: string | null;
  readonly status: number;
  readonly messages: number;
  readonly closeCode?: number;
  readonly code?: string;
}

export function endServerSpan(span: TraceSpan, outcome: ServerOutcome): void {
  const route = routeOf(outcome.contextPaths, outcome.path);
  if (route) span.rename(`${outcome.method ?? 'GET'} ${route}`);
  span.set({
    'http.route': route,
    'http.response.status_code': outcome.status || undefined,
    'sluice.api': outcome.api ?? undefined,
    'sluice.entrypoint': outcome.entrypoint ?? undefined,
    'sluice.plan': outcome.plan ?? undefined,
    'sluice.request_id': outcome.requestId,
    'sluice.messages': outcome.messages,
    'sluice.websocket.close_code': outcome.closeCode,
    'sluice.error.code': outcome.code,
  });
  // HTTP server spans: only 5xx are errors (a 4xx is the client's).
  if (outcome.status >= 500) span.fail(outcome.code ?? String(outcome.status));
  span.end();
}

/** The longest context path `path` is under. */
function routeOf(contextPaths: readonly string[] | undefined, path: string): string | undefined {
  let best: string | undefined;
  for (const prefix of contextPaths ?? []) if (path.startsWith(prefix) && (best === undefined || prefix.length > best.length)) best = prefix;
  return best;
}
