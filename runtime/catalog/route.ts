/**
 * The developer catalog on the gateway port (`--catalog-path`, default /catalog): the index at
 * PATH, one page per API at PATH/<api>. Each request reads the router serving now, so a deploy
 * changes the catalog at once. Served before routing (an API under the path would be shadowed;
 * the compiler refuses the default, CONTEXT_PATH_RESERVED).
 *
 * Private APIs are shown to a caller whose credential one of their plans accepts: the request's
 * own (X-Api-Key, Authorization: Bearer, the plans' query parameters) or `?credential=` (the
 * index's form), presented to each plan in its query parameter. A credential no private API
 * accepts shows the public set (no 401) and counts once against each API it was refused by
 * (the auth-failure throttle, as on the API itself). A private API's page without a credential it
 * accepts is a 404, like an API that does not exist.
 */
import { randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { BundleApi } from '../../schemas/types.ts';
import type { RouterSwitch } from '../routing/router.ts';
import type { Exchange } from '../exchange.ts';
import type { RequestView } from '../plans/plan.ts';
import { credentialOf } from '../../core/plans.ts';
import { html } from './escape.ts';
import { isPublic, listed, visibleApis, type CatalogApi } from './model.ts';
import { contentSecurityPolicy, layout, type PageContext } from './page.ts';
import { renderIndex } from './render-index.ts';
import { renderApi } from './render-api.ts';

export interface CatalogOptions {
  /** Where the catalog is served, e.g. /catalog (`--catalog-path`; '' turns it off). */
  readonly path: string;
  /**
   * Builds an API's AsyncAPI 3.0 document; given, the catalog serves PATH/<api>/asyncapi.json and
   * links it from the API's page. startGateway passes core/asyncapi's builder.
   */
  readonly asyncapi?: (api: BundleApi, gatewayUrl: string) => unknown;
}

/** The longest `credential` accepted (a JWT is at most 8 KiB). */
const MAX_CREDENTIAL = 8192;

/** `--catalog-path`: '' (off) or an absolute path without a trailing slash; throws naming the flag. */
export function parseCatalogPath(value: string): string {
  if (value === '') return '';
  const path = value.replace(/\/+$/, '');
  if (!/^\/[A-Za-z0-9._~!$&'()*+,;=:@%/-]+$/.test(path) || path.split('/').some((s, i) => i > 0 && (s === '' || s === '.' || s === '..'))) {
    throw new Error(`--catalog-path must be '' (no catalog) or a path like /catalog (got "${value}")`);
  }
  return path;
}

export class CatalogRoute {
  readonly #path: string;

  constructor(
    private readonly routers: RouterSwitch,
    private readonly options: CatalogOptions,
    private readonly scheme: 'http' | 'https',
  ) {
    this.#path = parseCatalogPath(options.path);
  }

  /** Is this request path the catalog's? */
  matches(pathname: string): boolean {
    return this.#path !== '' && (pathname === this.#path || pathname.startsWith(`${this.#path}/`));
  }

  /** Answers a catalog request; `client`: the client address (auth-failure throttle). */
  async handle(req: IncomingMessage, res: ServerResponse, url: URL, client: string): Promise<void> {
    const nonce = randomBytes(16).toString('base64');
    const headers = {
      'Content-Security-Policy': contentSecurityPolicy(nonce),
      'X-Content-Type-Options': 'nosniff',
      'Referrer-Policy': 'no-referrer',
      'Cache-Control': 'no-store',
    };
    const send = (status: number, type: string, body: string, extra: Record<string, string> = {}) => {
      res.writeHead(status, { ...headers, ...extra, 'Content-Type': type, 'Content-Length': String(Buffer.byteLength(body)) });
      res.end(req.method === 'HEAD' ? undefined : body);
    };
    const given = url.searchParams.get('credential') ?? '';
    const credential = given.length > 0 && given.length <= MAX_CREDENTIAL ? given : undefined;
    const origin = `${this.scheme}://${/^[A-Za-z0-9.:[\]-]{1,255}$/.test(req.headers.host ?? '') ? req.headers.host : 'localhost'}`;
    const context: PageContext = {
      nonce,
      indexHref: this.#path,
      apiHref: (id) => `${this.#path}/${encodeURIComponent(id)}`,
      ...(this.options.asyncapi ? { asyncapiHref: (id: string) => `${this.#path}/${encodeURIComponent(id)}/asyncapi.json` } : {}),
      ...(credential ? { credential } : {}),
      origin,
      tryIt: '',
    };
    const page = (status: number, title: string, text: string, extra?: Record<string, string>) =>
      send(status, 'text/html; charset=utf-8', layout({ ...context, tryIt: null }, title, html`<h1>${title}</h1><p>${text}</p>`).value, extra);

    if (req.method !== 'GET' && req.method !== 'HEAD') return page(405, 'Method not allowed', 'The catalog answers GET only.', { Allow: 'GET, HEAD' });
    const router = this.routers.current;
    if (!router) return page(503, 'Not ready', 'The gateway serves no bundle yet; retry shortly.', { 'Retry-After': '1' });

    const rest = url.pathname.slice(this.#path.length).split('/').filter(Boolean);
    const exchanges = [...router.exchanges.values()];
    const apis = visibleApis(exchanges.map((exchange) => exchange.api), await this.#opener(exchanges, { headers: req.headers, query: url.searchParams, remoteAddress: client }, credential));
    if (rest.length === 0) return send(200, 'text/html; charset=utf-8', renderIndex(context, apis));
    const api: CatalogApi | undefined = apis.find((a) => a.id === decodeSegment(rest[0]!));
    if (!api || rest.length > 2 || (rest.length === 2 && (rest[1] !== 'asyncapi.json' || !this.options.asyncapi))) {
      return page(404, 'Not found', 'No API of this catalog is at this address (a private API needs a credential of its own).');
    }
    if (rest.length === 2) {
      const document = this.options.asyncapi!(router.exchanges.get(api.id)!.api, origin);
      return send(200, 'application/json; charset=utf-8', `${JSON.stringify(document, null, 2)}\n`);
    }
    return send(200, 'text/html; charset=utf-8', renderApi(context, api));
  }

  /** Which private listed APIs the caller's credential opens; refusals are counted when it opens none. */
  async #opener(exchanges: readonly Exchange[], request: RequestView, credential: string | undefined): Promise<(api: BundleApi) => boolean> {
    const opened = new Set<string>();
    const refusedBy: Exchange[] = [];
    for (const exchange of exchanges) {
      const api = exchange.api;
      if (!listed(api) || isPublic(api)) continue;
      let answer = await exchange.recognises(request);
      if (answer !== 'accepted' && credential !== undefined) {
        const query = new URLSearchParams();
        for (const plan of Object.values(api.plans)) {
          const param = credentialOf(plan)?.queryParam;
          if (param) query.set(param, credential);
        }
        const viaForm = await exchange.recognises({ headers: {}, query, remoteAddress: request.remoteAddress });
        if (viaForm !== 'absent') answer = viaForm;
      }
      if (answer === 'accepted') opened.add(api.id);
      else if (answer === 'refused') refusedBy.push(exchange);
    }
    if (opened.size === 0) for (const exchange of refusedBy) exchange.refused(request.remoteAddress);
    return (api) => opened.has(api.id);
  }
}

function decodeSegment(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}
