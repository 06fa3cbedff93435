/**
 * `sluice catalog [APIS_DIR] --out DIR [--gateway-url URL]`: the developer catalog as a static site,
 * for hosting elsewhere: DIR/index.html and DIR/<api>/index.html, the same pages the gateway serves
 * at /catalog (runtime/catalog renders both), for the public APIs that are started and published or
 * deprecated. Private APIs are never written (a static page cannot check a credential). With
 * --gateway-url the examples name that gateway and each page has the try-it panel streaming from it
 * (its APIs' CORS must allow the site's origin); without, examples name http://localhost:8082 and
 * there is no panel. Exit 0 written, 1 diagnostics (nothing written), 2 usage error.
 *
 * DIR/.sluice-catalog.json lists the API pages written: a later export removes the pages of APIs
 * no longer shown (an API made private must not stay online), and nothing else. A DIR that is not
 * empty and has no such list is refused (it is not a catalog: nothing there is overwritten).
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, rmdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { parseArgs, UsageError } from './args.ts';
import { compileOrReport, fail } from './report.ts';
import { isPublic, listed, visibleApis } from '../runtime/catalog/model.ts';
import { contentSecurityPolicy, type PageContext } from '../runtime/catalog/page.ts';
import { renderIndex } from '../runtime/catalog/render-index.ts';
import { buildAsyncApi } from '../core/asyncapi/build.ts';
import { renderApi } from '../runtime/catalog/render-api.ts';

const USAGE = 'usage: sluice catalog [APIS_DIR] --out DIR [--gateway-url URL]';
const MANIFEST = '.sluice-catalog.json';

/** The API pages an earlier export wrote to `out` ([] for a new or empty folder); throws for a folder that is not a catalog. */
function previousPages(out: string): string[] {
  if (!existsSync(out) || readdirSync(out).length === 0) return [];
  let pages: unknown;
  try {
    pages = (JSON.parse(readFileSync(join(out, MANIFEST), 'utf8')) as { pages?: unknown }).pages;
  } catch {
    pages = undefined;
  }
  if (!Array.isArray(pages) || !pages.every((id) => typeof id === 'string' && /^[a-z0-9-]{1,63}$/.test(id))) {
    throw new UsageError(`--out ${out} is not empty and holds no ${MANIFEST} (it was not written by sluice catalog): give an empty or new folder`);
  }
  return pages as string[];
}

/** The origin of --gateway-url (http or https, no path), or a usage error naming the flag. */
function gatewayOrigin(value: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new UsageError(`--gateway-url must be an http:// or https:// URL (got "${value}")`);
  }
  if ((url.protocol !== 'http:' && url.protocol !== 'https:') || url.username || url.password || (url.pathname !== '/' && url.pathname !== '') || url.search || url.hash) {
    throw new UsageError(`--gateway-url must be the gateway's origin, e.g. https://gateway.example.com (got "${value}")`);
  }
  return url.origin;
}

export async function run(args: string[]): Promise<number> {
  try {
    const { positionals, flags } = parseArgs(args, ['--out', '--gateway-url']);
    if (positionals.length > 1) throw new UsageError(`one APIS_DIR at most (got ${positionals.join(' ')})`);
    const out = flags.get('--out');
    if (!out) throw new UsageError('--out DIR is required');
    const gateway = flags.has('--gateway-url') ? gatewayOrigin(flags.get('--gateway-url')!) : undefined;
    const root = positionals[0] ?? 'apis';
    const previous = previousPages(out);

    const bundle = await compileOrReport('catalog', root);
    if (typeof bundle === 'number') return bundle;
    const nonce = randomBytes(16).toString('base64');
    const connect = gateway ? [gateway, gateway.replace(/^http/, 'ws')] : [];
    const base: Omit<PageContext, 'indexHref' | 'apiHref'> = {
      nonce,
      origin: gateway ?? 'http://localhost:8082',
      tryIt: gateway ?? null,
      metaCsp: contentSecurityPolicy(nonce, connect, true),
    };
    // Public only: a static page cannot ask for a credential.
    const apis = visibleApis(Object.values(bundle.apis).filter((api) => listed(api) && isPublic(api)), () => false);
    try {
      mkdirSync(out, { recursive: true });
      writeFileSync(join(out, 'index.html'), renderIndex({ ...base, indexHref: './index.html', apiHref: (id) => `./${id}/index.html` }, apis, { credentialForm: false }));
      for (const api of apis) {
        mkdirSync(join(out, api.id), { recursive: true });
        writeFileSync(join(out, api.id, 'index.html'), renderApi({ ...base, indexHref: '../index.html', apiHref: (id) => `../${id}/index.html`, asyncapiHref: () => './asyncapi.json' }, api));
        // Its AsyncAPI 3.0 document beside it, as the runtime serves it at /catalog/<api>/asyncapi.json.
        writeFileSync(join(out, api.id, 'asyncapi.json'), `${JSON.stringify(buildAsyncApi(bundle.apis[api.id], { serverUrl: gateway ?? 'http://localhost:8082' }), null, 2)}\n`);
      }
      const current = new Set(apis.map((api) => api.id));
      for (const id of previous.filter((id) => !current.has(id))) {
        rmSync(join(out, id, 'index.html'), { force: true });
        rmSync(join(out, id, 'asyncapi.json'), { force: true });
        if (existsSync(join(out, id)) && readdirSync(join(out, id)).length === 0) rmdirSync(join(out, id));
      }
      writeFileSync(join(out, MANIFEST), `${JSON.stringify({ pages: [...current] }, null, 2)}\n`);
    } catch (error) {
      return fail('catalog', `cannot write the catalog to ${out}: ${(error as Error).message}`);
    }
    process.stdout.write(`wrote ${join(out, 'index.html')} and ${apis.length} API page${apis.length === 1 ? '' : 's'}${gateway ? ` (try-it: ${gateway})` : ''}\n`);
    return 0;
  } catch (error) {
    if (error instanceof UsageError) return fail('catalog', `${error.message}\n${USAGE}`);
    throw error;
  }
}
