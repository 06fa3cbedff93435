/**
 * Routing and hot swap. A Router is immutable: one bundle's started APIs by context path.
 * RouterSwitch holds the only mutable reference (`current`) and deploys bundles one at a time:
 *
 *   validate -> build exchanges for changed/new APIs (unchanged ones are reused, with their
 *   open connections) -> warm them (endpoint.start) -> flip `current` -> drain what was dropped
 *   (WebSocket 1012, long-polls end) -> stop dropped exchanges' endpoints (exactly once).
 *
 * An unchanged bundle id does nothing; a bundle that fails to load, build or warm is logged and
 * the last good router keeps serving.
 */
import { randomUUID } from 'node:crypto';
import type { Bundle } from '../../schemas/types.ts';
import { Exchange } from '../exchange.ts';
import { validateBundle, type LoadedBundle } from '../bundle.ts';
import type { Registry } from '../registry.ts';
import { createGatewayState, type GatewayState } from '../gateway-state.ts';
import { errors } from '../../core/errors.ts';
import { log } from '../log.ts';
import { servesApi } from './tags.ts';
import { matchTemplate, parseTemplate, type PathTemplate } from '../../core/channel.ts';

/** `/a//b` -> `/a/b/`; what requests are matched with (the compiler normalises context paths the same way). */
export function normalisePath(path: string): string {
  const collapsed = `/${path}/`.replace(/\/{2,}/g, '/');
  return collapsed;
}

const NO_PARAMS: Readonly<Record<string, string>> = Object.freeze({});

export class Router {
  /** Longest context path first, so the most specific API wins. */
  readonly #routes: { path: string; template: PathTemplate | null; exchange: Exchange | null }[];

  constructor(
    readonly bundle: Bundle,
    /** Exchanges of started APIs, by API id. */
    readonly exchanges: ReadonlyMap<string, Exchange>,
    /** Where the bundle came from (file path, store URL, "working tree"). */
    readonly origin: string,
    /** Started APIs that failed to build and have no last good exchange: answered 503. */
    readonly failures: ReadonlyMap<string, string> = new Map(),
    readonly deployedAt = new Date(),
  ) {
    const route = (path: string, exchange: Exchange | null) => {
      const template = parseTemplate(path);
      return { path: template ? template.prefix : normalisePath(path), template, exchange };
    };
    const failed = [...failures.keys()].flatMap((id) => bundle.apis[id]!.definition.contextPaths.map((path) => route(path, null)));
    this.#routes = [...exchanges.values()]
      .flatMap((exchange) => exchange.contextPaths.map((path) => route(path, exchange)))
      .concat(failed)
      .sort((a, b) => b.path.length - a.path.length);
  }

  get bundleId(): string {
    return this.bundle.id;
  }

  /** The exchange serving a request path (already without query); null: 404; throws 503 for an API that failed to build. */
  match(pathname: string): Exchange | null {
    return this.route(pathname)?.exchange ?? null;
  }

  /** The exchange and the channel parameters of a context path template (empty for plain paths); null: 404. */
  route(pathname: string): { exchange: Exchange; params: Readonly<Record<string, string>> } | null {
    const path = normalisePath(pathname);
    for (const route of this.#routes) {
      if (!path.startsWith(route.path)) continue;
      const params = route.template ? matchTemplate(route.template, path) : NO_PARAMS;
      if (!params) continue;
      if (!route.exchange) throw errors.apiUnavailable();
      return { exchange: route.exchange, params };
    }
    return null;
  }
}

export interface DeployResult {
  readonly deployed: boolean;
  readonly bundleId?: string;
  readonly changed: string[];
  readonly kept: string[];
  readonly removed: string[];
  readonly added: string[];
  /** APIs that failed to build or warm (each keeps its last good exchange, if any). */
  readonly failed?: string[];
  readonly error?: string;
}

export class RouterSwitch {
  #current: Router | null = null;
  #queue: Promise<unknown> = Promise.resolve();
  #closed = false;
  /** Last deploy failure, for /status. */
  lastError: { at: string; message: string } | undefined;
  readonly instanceId: string;

  readonly registry: Registry | undefined;
  /** What the gateway owns across deploys (rate-limit store, auth throttle, webhook table, telemetry); default: one of its own. */
  readonly state: GatewayState;

  constructor(options: { instanceId?: string; registry?: Registry; state?: GatewayState } = {}) {
    this.instanceId = options.instanceId ?? `sluice-${randomUUID().slice(0, 8)}`;
    this.registry = options.registry;
    this.state = options.state ?? createGatewayState();
  }

  /** The router serving now; null until the first bundle is deployed. */
  get current(): Router | null {
    return this.#current;
  }

  /** Deploys a candidate bundle (parsed JSON); deploys run one after another. Never rejects. */
  deploy(candidate: unknown, origin: string): Promise<DeployResult> {
    const run = this.#queue.then(() => this.#deploy(candidate, origin));
    this.#queue = run.catch(() => undefined);
    return run;
  }

  async #deploy(candidate: unknown, origin: string): Promise<DeployResult> {
    const began = performance.now();
    const nothing = { changed: [], kept: [], removed: [], added: [] };
    if (this.#closed) return { deployed: false, ...nothing, error: 'the gateway is stopping' };
    const previous = this.#current;
    const claimedId = (candidate as Bundle | null)?.id;
    if (previous && typeof claimedId === 'string' && claimedId === previous.bundleId) return { deployed: false, bundleId: claimedId, ...nothing };

    let bundle: LoadedBundle;
    try {
      bundle = validateBundle(candidate);
    } catch (error) {
      const message = (error as Error).message;
      this.lastError = { at: new Date().toISOString(), message };
      log.error({ origin, err: message, serving: previous?.bundleId ?? null }, 'deploy failed; the last good bundle keeps serving');
      this.state.telemetry.emit({ kind: 'deploy-failed', reason: message });
      return { deployed: false, ...nothing, error: message };
    }
    if (previous && bundle.id === previous.bundleId) return { deployed: false, bundleId: bundle.id, ...nothing };

    // Each changed API is built and warmed on its own: one that fails (a missing secret, a
    // connector this runtime lacks) keeps its last good exchange, or is answered 503 when it has
    // none, and never holds back the other APIs.
    const exchanges = new Map<string, Exchange>();
    const failures = new Map<string, string>();
    const report = { changed: [] as string[], kept: [] as string[], removed: [] as string[], added: [] as string[], failed: [] as string[] };
    // APIs whose definition is unchanged but whose plans or subscriptions changed keep their
    // exchange (and the connections the change does not concern); their new admission is
    // committed once the router flipped.
    const admissions: (() => Promise<void>)[] = [];
    await Promise.all(Object.entries(bundle.apis).map(async ([apiId, api]) => {
      if ((api.definition.state ?? 'started') !== 'started') return;
      // Sharding tags (--tags): an API this gateway does not serve is never built here (404).
      if (!servesApi(this.state.tags, api.definition.tags)) return;
      const old = previous?.exchanges.get(apiId);
      const fingerprint = bundle.fingerprints[apiId]!;
      if (old && old.fingerprint.api === fingerprint.api) {
        exchanges.set(apiId, old);
        report.kept.push(apiId);
        return;
      }
      let fresh: Exchange | undefined;
      try {
        const admission = await old?.prepareAdmission(api, fingerprint);
        if (old && admission) {
          admissions.push(admission);
          exchanges.set(apiId, old);
          report.changed.push(apiId);
          return;
        }
        fresh = new Exchange(api, fingerprint, { instanceId: this.instanceId, state: this.state, ...(this.registry ? { registry: this.registry } : {}) });
        await fresh.start();
      } catch (error) {
        const message = (error as Error).message;
        report.failed.push(apiId);
        log.error({ origin, api: apiId, err: message, keeping: old ? 'last good' : 'none' }, old ? 'API failed to build; its last good version keeps serving' : 'API failed to build; answered 503 until it builds');
        if (fresh) await fresh.stop();
        if (old) exchanges.set(apiId, old);
        else failures.set(apiId, message);
        return;
      }
      exchanges.set(apiId, fresh);
      (old ? report.changed : report.added).push(apiId);
    }));
    for (const list of Object.values(report)) list.sort();
    const next = new Router(bundle, exchanges, origin, failures);
    this.#current = next;
    await Promise.all(admissions.map((commit) => commit()));

    const dropped = previous ? [...previous.exchanges.values()].filter((exchange) => exchanges.get(exchange.id) !== exchange) : [];
    for (const exchange of dropped) {
      if (!exchanges.has(exchange.id)) report.removed.push(exchange.id);
      exchange.drain(errors.serviceRestart());
    }
    await Promise.all(dropped.map((exchange) => exchange.stop()));

    const durationMs = performance.now() - began;
    log.info({ event: 'deploy', bundleId: bundle.id, origin, ...report, durationMs: Math.round(durationMs) }, 'deployed');
    this.state.telemetry.emit({ kind: 'deploy', bundleId: bundle.id, ...report, durationMs });
    this.lastError = report.failed.length ? { at: new Date().toISOString(), message: `APIs failed to build: ${report.failed.join(', ')}` } : undefined;
    return { deployed: true, bundleId: bundle.id, ...report };
  }

  /** Shutdown: no more deploys; every connection ends with GATEWAY_STOPPING (1013); resolves once all are released or after `graceMs`, then endpoints stop. */
  async close(graceMs = 8000): Promise<void> {
    this.#closed = true;
    await this.#queue;
    const router = this.#current;
    if (!router) return;
    const exchanges = [...router.exchanges.values()];
    for (const exchange of exchanges) exchange.drain(errors.gatewayStopping());
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      Promise.all(exchanges.map((exchange) => exchange.connections.whenEmpty())),
      new Promise((resolve) => (timer = setTimeout(resolve, graceMs))),
    ]);
    clearTimeout(timer);
    await Promise.all(exchanges.map((exchange) => exchange.stop()));
  }
}
