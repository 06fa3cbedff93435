/**
 * The admin port (separate from the gateway port): /healthz (the process answers), /readyz
 * ("this instance serves a bundle": 503 until a bundle is served and while draining for shutdown,
 * else 200 with the bundle id; an endpoint outage does not make it unready, so one broker outage
 * does not take every instance out of a load balancer), /readyz?strict=1 (also 503 while an
 * endpoint is unhealthy, naming it),
 * /status (bundle, source, each API's state and open connections). Other modules add routes
 * with one entry in the routes startGateway passes (/metrics, the webhook routes, its `adminRoutes` option).
 *
 * The admin port has no authentication: it listens on 127.0.0.1 unless told otherwise, and it
 * answers 403 ADMIN_ORIGIN_REFUSED to any request with an `Origin` header, so a web page the
 * operator visits cannot drive it (cross-site POST /subscriptions/NAME/resume, DNS rebinding).
 * Probes, curl, Prometheus and `sluice subscriptions` send no Origin.
 */
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import type { RouterSwitch } from '../routing/router.ts';
import { log } from '../log.ts';
import { plansStatus } from '../plans/status.ts';

/** What admin routes can see. */
export interface AdminView {
  readonly routers: RouterSwitch;
  /** The bundle source's description. */
  readonly source: string;
  readonly startedAt: Date;
  /** Release info (tag, commit, deployment) of a served bundle, when the source is a store. */
  readonly release?: (bundleId: string) => Record<string, unknown> | undefined;
  /** True once shutdown began (SIGTERM): /readyz answers 503 while the gateway still serves. */
  readonly draining?: () => boolean;
}

export interface AdminRoute {
  readonly method: 'GET' | 'POST';
  readonly path: string;
  handle(req: IncomingMessage, res: ServerResponse, view: AdminView): void | Promise<void>;
}


/** Answers an admin request with pretty JSON, never cached. For admin routes in other modules too. */
export function json(res: ServerResponse, status: number, body: unknown): void {
  res.statusCode = status;
  res.setHeader('Content-Type', 'application/json');
  res.setHeader('Cache-Control', 'no-store');
  res.end(`${JSON.stringify(body, null, 2)}\n`);
}

/**
 * /readyz: ready once a bundle is served and until draining. `strict` (/readyz?strict=1): and every
 * endpoint of it is healthy. Unhealthy endpoints are named either way.
 */
export function readiness(view: AdminView, strict = false): { status: number; body: Record<string, unknown> } {
  const router = view.routers.current;
  if (!router) return { status: 503, body: { ready: false, reason: 'no bundle served yet', lastError: view.routers.lastError?.message } };
  if (view.draining?.()) return { status: 503, body: { ready: false, reason: 'shutting down (draining)', bundleId: router.bundleId } };
  const apis = Object.fromEntries([...router.exchanges].map(([id, exchange]) => [id, exchange.health()]));
  const unhealthy = Object.entries(apis).filter(([, health]) => !health.healthy).map(([id]) => id);
  const ready = !strict || unhealthy.length === 0;
  return {
    status: ready ? 200 : 503,
    body: {
      ready,
      bundleId: router.bundleId,
      tag: view.release?.(router.bundleId)?.tag ?? router.bundle.source.tag,
      // APIs that failed to build answer 503 themselves; they do not make the gateway unready.
      ...(router.failures.size ? { failed: Object.fromEntries(router.failures) } : {}),
      ...(unhealthy.length ? { unhealthy, apis } : {}),
    },
  };
}

export function status(view: AdminView): Record<string, unknown> {
  const router = view.routers.current;
  if (!router) return { bundleId: null, source: view.source, apis: {}, lastError: view.routers.lastError };
  const apis: Record<string, unknown> = {};
  for (const [id, api] of Object.entries(router.bundle.apis)) {
    const exchange = router.exchanges.get(id);
    const failure = router.failures.get(id);
    apis[id] = exchange
      ? { name: api.definition.name, ...exchange.status(), health: exchange.health() }
      : failure !== undefined
        ? { name: api.definition.name, state: 'failed', error: failure, contextPaths: api.definition.contextPaths, connections: {} }
        : { name: api.definition.name, state: api.definition.state ?? 'started', contextPaths: api.definition.contextPaths, connections: {} };
    (apis[id] as Record<string, unknown>).plans = plansStatus(api, view.routers.state.rateLimits.stats);
  }
  return {
    bundleId: router.bundleId,
    source: view.source,
    release: view.release?.(router.bundleId) ?? null,
    origin: router.origin,
    bundleSource: router.bundle.source,
    createdAt: router.bundle.createdAt,
    deployedAt: router.deployedAt.toISOString(),
    startedAt: view.startedAt.toISOString(),
    instanceId: view.routers.instanceId,
    lastError: view.routers.lastError,
    apis,
  };
}

export function createAdminServer(view: AdminView, extra: readonly AdminRoute[] = []): http.Server {
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  app.use((req, res, next) => {
    if (req.headers.origin === undefined) return next();
    json(res, 403, { code: 'ADMIN_ORIGIN_REFUSED', message: 'the admin port does not answer browser requests (Origin header)' });
  });
  app.get('/healthz', (_req, res) => json(res, 200, { status: 'ok' }));
  app.get('/readyz', (req, res) => {
    const strict = ['1', 'true'].includes(String(req.query.strict ?? ''));
    const { status: code, body } = readiness(view, strict);
    json(res, code, body);
  });
  app.get('/status', (_req, res) => json(res, 200, status(view)));
  for (const route of extra) {
    const register = route.method === 'GET' ? app.get.bind(app) : app.post.bind(app);
    register(route.path, async (req, res) => {
      try {
        await route.handle(req, res, view);
      } catch (error) {
        log.error({ err: error, path: route.path }, 'admin route failed');
        if (!res.headersSent) json(res, 500, { error: 'internal error' });
      }
    });
  }
  app.use((_req, res) => json(res, 404, { error: 'not found' }));
  return http.createServer(app);
}

export function listen(server: http.Server, port: number, host: string): Promise<AddressInfo> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve(server.address() as AddressInfo);
    });
  });
}
