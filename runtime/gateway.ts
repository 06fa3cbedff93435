/**
 * A running gateway: the RouterSwitch, the gateway port, the admin port and a bundle source,
 * wired once. `sluice serve`, `sluice dev` (npm start) and the tests all start it this way.
 */
import type http from 'node:http';
import type https from 'node:https';
import type { AdminRoute, AdminView } from './http/admin.ts';
import { createAdminServer, listen } from './http/admin.ts';
import { RouterSwitch, type DeployResult } from './routing/router.ts';
import type { Registry } from './registry.ts';
import { GatewayServer } from './http/server.ts';
import type { BundleSource } from './sources/source.ts';
import { log } from './log.ts';
import type { TrustedProxies } from './http/client-address.ts';
import { Metrics, metricsAdminRoute } from './metrics/metrics.ts';
import type { Telemetry } from './metrics/telemetry.ts';
import { createGatewayState, type GatewayStateOptions } from './gateway-state.ts';
import { webhookAdminRoutes } from './entrypoints/webhook/admin.ts';
import { reloadTlsOnChange } from './http/tls-reload.ts';
import { CatalogRoute, type CatalogOptions } from './catalog/route.ts';
import { buildAsyncApi } from '../core/asyncapi/build.ts';

export interface GatewayOptions extends GatewayStateOptions {
  /** Gateway port's host (default 127.0.0.1). */
  readonly host?: string;
  /**
   * Admin port's host (default 127.0.0.1, whatever `host` is): the admin port has no
   * authentication (/status, POST /subscriptions/NAME/resume), so exposing the gateway on
   * 0.0.0.0 does not expose it too; give it a host of its own to do that on purpose.
   */
  readonly adminHost?: string;
  /** Gateway port (default 8082; 0 picks a free one). */
  readonly port?: number;
  /** Admin port (default 18082; 0 picks a free one; null: no admin server). */
  readonly adminPort?: number | null;
  /** With `certFile`/`keyFile`, the pair is reloaded when the files change (tls-reload.ts). */
  readonly tls?: { readonly cert: string | Buffer; readonly key: string | Buffer; readonly certFile?: string; readonly keyFile?: string };
  /** Where bundles come from; without one, call `deploy` yourself. */
  readonly source?: BundleSource;
  readonly adminRoutes?: readonly AdminRoute[];
  /** How long shutdown waits for open connections before cutting them (default 8000 ms). */
  readonly shutdownGraceMs?: number;
  /** Entrypoint, endpoint and plan implementations by type (default: the built-ins; tests pass their own). */
  readonly registry?: Registry;
  /** Proxies whose Forwarded / X-Forwarded-For name the client address (`--trusted-proxies`). */
  readonly trustedProxies?: TrustedProxies;
  /** The developer catalog on the gateway port (`--catalog-path`; default { path: '/catalog' }; path '': off). */
  readonly catalog?: CatalogOptions;
}

export interface Gateway {
  readonly routers: RouterSwitch;
  readonly port: number;
  readonly adminPort: number | null;
  /** e.g. http://127.0.0.1:8082 */
  readonly url: string;
  readonly adminUrl: string | null;
  /** This gateway's telemetry: `telemetry.on(listener)` hears its events (and no other gateway's). */
  readonly telemetry: Telemetry;
  deploy(candidate: unknown, origin?: string): Promise<DeployResult>;
  /** Shutdown's first step: /readyz answers 503 from now on, everything else keeps serving. */
  drain(): void;
  /** Graceful: stop accepting, WebSockets close 1013, long-polls end, endpoints stop. */
  close(): Promise<void>;
}

export async function startGateway(options: GatewayOptions = {}): Promise<Gateway> {
  const host = options.host ?? '127.0.0.1';
  const adminHost = options.adminHost ?? '127.0.0.1';
  // Everything this gateway owns across deploys; nothing of it is shared with another gateway in the process.
  // Its own metrics (Registry and families), and the telemetry that counts on them.
  const metrics = new Metrics();
  const state = createGatewayState(options, metrics.telemetry);
  const routers = new RouterSwitch({ state, ...(options.registry ? { registry: options.registry } : {}) });
  const source = options.source;
  let draining = false;
  const view: AdminView = {
    routers, source: source?.description ?? 'api', startedAt: new Date(), release: source?.release ? (id) => source.release!(id) : undefined, draining: () => draining,
  };
  const stopMetering = metrics.meter(routers);
  // Each API page links its AsyncAPI 3.0 document (core/asyncapi), built from the bundle served.
  const catalogOptions = options.catalog ?? { path: '/catalog' };
  const catalog = new CatalogRoute(routers, { asyncapi: (api, url) => buildAsyncApi(api, { serverUrl: url }), ...catalogOptions }, options.tls ? 'https' : 'http');
  const server = new GatewayServer(routers, { host, port: options.port ?? 8082, tls: options.tls, trustedProxies: options.trustedProxies, tracing: state.tracing, catalog });
  const address = await server.listen();
  let admin: http.Server | undefined;
  let adminPort: number | null = null;
  if (options.adminPort !== null) {
    admin = createAdminServer(view, [metricsAdminRoute(metrics), ...webhookAdminRoutes(state.webhooks), ...(options.adminRoutes ?? [])]);
    try {
      adminPort = (await listen(admin, options.adminPort ?? 18082, adminHost)).port;
    } catch (error) {
      server.destroyAll();
      await server.stopAccepting();
      throw error;
    }
  }
  const watching = new AbortController();
  const tlsFiles = options.tls?.certFile && options.tls.keyFile ? { certFile: options.tls.certFile, keyFile: options.tls.keyFile } : undefined;
  const stopTlsReload = tlsFiles ? reloadTlsOnChange(server.server as https.Server, tlsFiles) : undefined;
  const scheme = options.tls ? 'https' : 'http';
  const urlHost = host.includes(':') ? `[${host}]` : host;
  const adminUrlHost = adminHost.includes(':') ? `[${adminHost}]` : adminHost;
  log.info({ event: 'listening', url: `${scheme}://${urlHost}:${address.port}`, admin: adminPort, source: view.source }, 'gateway listening');

  if (options.source) {
    try {
      await options.source.watch(
        async (candidate, origin) => void (await routers.deploy(candidate, origin)),
        watching.signal,
        (message, code) => {
          routers.lastError = { at: new Date().toISOString(), message };
          state.telemetry.emit({ kind: 'deploy-failed', reason: message, code });
        },
      );
    } catch (error) {
      log.error({ err: (error as Error).message, source: view.source }, 'bundle source failed');
    }
  }

  let closing: Promise<void> | undefined;
  return {
    routers,
    port: address.port,
    adminPort,
    url: `${scheme}://${urlHost}:${address.port}`,
    adminUrl: adminPort === null ? null : `http://${adminUrlHost}:${adminPort}`,
    telemetry: state.telemetry,
    deploy: (candidate, origin = 'api') => routers.deploy(candidate, origin),
    drain() {
      if (!draining) log.info({ event: 'draining' }, 'draining: /readyz answers 503, still serving');
      draining = true;
    },
    close() {
      closing ??= (async () => {
        draining = true;
        watching.abort();
        stopTlsReload?.();
        stopMetering();
        const stopped = server.stopAccepting();
        await routers.close(options.shutdownGraceMs ?? 8000);
        server.server.closeIdleConnections();
        const cut = setTimeout(() => server.destroyAll(), 1000);
        await stopped;
        clearTimeout(cut);
        if (admin) {
          admin.closeAllConnections();
          await new Promise<void>((resolve) => admin!.close(() => resolve()));
        }
        // Counters the gateway made itself; counters passed in (Redis from the CLI) belong to the caller.
        if (!options.rateLimits?.counters) await state.rateLimits.close();
        log.info({ event: 'stopped' }, 'gateway stopped');
      })();
      return closing;
    },
  };
}
