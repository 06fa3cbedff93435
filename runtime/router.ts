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
import type { Bundle } from '../schemas/types.ts';
import { Exchange } from './exchange.ts';
import { canonicalJson, validateBundle } from './bundle.ts';
import { errors } from './errors.ts';
import { emit } from './telemetry.ts';
import { log } from './log.ts';

/** `/a//b` -> `/a/b/`; what requests are matched with (the compiler normalises context paths the same way). */
export function normalisePath(path: string): string {
  const collapsed = `/${path}/`.replace(/\/{2,}/g, '/');
  return collapsed;
}

export class Router {
  /** Longest context path first, so the most specific API wins. */
  readonly #routes: { path: string; exchange: Exchange }[];

  constructor(
    readonly bundle: Bundle,
    /** Exchanges of started APIs, by API id. */
    readonly exchanges: ReadonlyMap<string, Exchange>,
    /** Where the bundle came from (file path, store URL, "working tree"). */
    readonly origin: string,
    readonly deployedAt = new Date(),
  ) {
    this.#routes = [...exchanges.values()]
      .flatMap((exchange) => exchange.contextPaths.map((path) => ({ path: normalisePath(path), exchange })))
      .sort((a, b) => b.path.length - a.path.length);
  }

  get bundleId(): string {
    return this.bundle.id;
  }

  /** The exchange serving a request path (already without query), or null (404). */
  match(pathname: string): Exchange | null {
    const path = normalisePath(pathname);
    for (const route of this.#routes) if (path.startsWith(route.path)) return route.exchange;
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
  readonly error?: string;
}

export class RouterSwitch {
  #current: Router | null = null;
  #queue: Promise<unknown> = Promise.resolve();
  #closed = false;
  /** Last deploy failure, for /status. */
  lastError: { at: string; message: string } | undefined;
  readonly instanceId: string;

  constructor(options: { instanceId?: string } = {}) {
    this.instanceId = options.instanceId ?? `sluice-${randomUUID().slice(0, 8)}`;
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
    const nothing = { changed: [], kept: [], removed: [], added: [] };
    if (this.#closed) return { deployed: false, ...nothing, error: 'the gateway is stopping' };
    const previous = this.#current;
    const claimedId = (candidate as Bundle | null)?.id;
    if (previous && typeof claimedId === 'string' && claimedId === previous.bundleId) return { deployed: false, bundleId: claimedId, ...nothing };

    let bundle: Bundle;
    const built: Exchange[] = [];
    const exchanges = new Map<string, Exchange>();
    const report = { changed: [] as string[], kept: [] as string[], removed: [] as string[], added: [] as string[] };
    try {
      bundle = validateBundle(candidate);
      for (const [apiId, api] of Object.entries(bundle.apis)) {
        if ((api.definition.state ?? 'started') !== 'started') continue;
        const old = previous?.exchanges.get(apiId);
        if (old && old.fingerprint === canonicalJson(api)) {
          exchanges.set(apiId, old);
          report.kept.push(apiId);
          continue;
        }
        const fresh = new Exchange(api, { instanceId: this.instanceId });
        built.push(fresh);
        exchanges.set(apiId, fresh);
        (old ? report.changed : report.added).push(apiId);
      }
      await Promise.all(built.map((exchange) => exchange.start()));
    } catch (error) {
      const message = (error as Error).message;
      this.lastError = { at: new Date().toISOString(), message };
      log.error({ origin, err: message, serving: previous?.bundleId ?? null }, 'deploy failed; the last good bundle keeps serving');
      emit({ kind: 'deploy-failed', reason: message });
      await Promise.all(built.map((exchange) => exchange.stop()));
      return { deployed: false, ...nothing, error: message };
    }

    const next = new Router(bundle, exchanges, origin);
    this.#current = next;

    const dropped = previous ? [...previous.exchanges.values()].filter((exchange) => exchanges.get(exchange.id) !== exchange) : [];
    for (const exchange of dropped) {
      if (!exchanges.has(exchange.id)) report.removed.push(exchange.id);
      exchange.drain(errors.serviceRestart());
    }
    await Promise.all(dropped.map((exchange) => exchange.stop()));

    log.info({ event: 'deploy', bundleId: bundle.id, origin, ...report }, 'deployed');
    emit({ kind: 'deploy', bundleId: bundle.id, ...report });
    this.lastError = undefined;
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
