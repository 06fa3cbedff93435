/**
 * `sluice serve --bundle FILE | --bundles DIR | --store DIR|URL [--trust-key PUB[,PUB]] [--port 8082] [--admin-port 18082]
 *  [--host 127.0.0.1] [--admin-host 127.0.0.1] [--tls-cert PEM --tls-key PEM] [--log-level info]
 *  [--redis URL [--redis-key-prefix P]] [--rate-limit-error-strategy allow|deny] [--webhook-allowed-hosts H1,H2] [--auth-failure-limit N/SECONDS|0] [--trusted-proxies CIDR,...] [--catalog-path /catalog]`
 */
import { existsSync, statSync } from 'node:fs';
import type { BundleSource } from '../runtime/sources/source.ts';
import { fileSource } from '../runtime/sources/file.ts';
import { dirSource } from '../runtime/sources/dir.ts';
import { parseServerFlags, serveUntilSignal, UsageError } from './options.ts';
import { parseTrustKeys, type BundleTrust } from '../runtime/trust.ts';
import { log } from '../runtime/log.ts';

const USAGE = 'usage: sluice serve --bundle FILE | --bundles DIR | --store DIR|URL [--trust-key PUB[,PUB]] [--port 8082] [--admin-port 18082] [--host 127.0.0.1] [--admin-host 127.0.0.1] [--tls-cert PEM --tls-key PEM] [--log-level info] [--redis URL [--redis-key-prefix P]] [--rate-limit-error-strategy allow|deny] [--webhook-allowed-hosts H1,H2] [--auth-failure-limit N/SECONDS|0] [--trusted-proxies CIDR,...] [--catalog-path /catalog]';

/** The store source (GitOps) lives in runtime/sources/store.ts and exports `storeSource(location)`. */
async function storeSource(location: string, trust: BundleTrust | undefined): Promise<BundleSource | undefined> {
  try {
    const module = (await import('../runtime/sources/' + 'store.ts')) as { storeSource(location: string, options: { trust?: BundleTrust }): BundleSource };
    return module.storeSource(location, { trust });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ERR_MODULE_NOT_FOUND' && String((error as Error).message).includes('store.ts')) return undefined;
    throw error;
  }
}

export async function run(args: string[]): Promise<number> {
  let server;
  let source: BundleSource | undefined;
  try {
    const parsed = parseServerFlags(args, ['--bundle', '--bundles', '--store', '--trust-key']);
    server = parsed.server;
    const { flags, positionals } = parsed.parsed;
    if (positionals.length) throw new UsageError(`unexpected argument ${positionals[0]}`);
    const chosen = ['--bundle', '--bundles', '--store'].filter((flag) => flags.has(flag));
    if (chosen.length !== 1) throw new UsageError('give exactly one of --bundle FILE, --bundles DIR, --store DIR|URL');
    let trust: BundleTrust | undefined;
    if (flags.has('--trust-key')) {
      try {
        trust = parseTrustKeys(flags.get('--trust-key')!);
      } catch (error) {
        throw new UsageError((error as Error).message);
      }
      log.info({ event: 'trust', keyIds: trust.keys.map((k) => k.id) }, 'serving only bundles signed by a trusted key');
    }
    if (flags.has('--bundle')) source = fileSource(flags.get('--bundle')!, { trust });
    else if (flags.has('--bundles')) {
      // A folder that appears later would never be watched: refuse a typo now.
      const dir = flags.get('--bundles')!;
      if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new UsageError(`--bundles ${dir} is not a folder`);
      source = dirSource(dir, { trust });
    }
    else {
      const store = flags.get('--store')!;
      // fetch refuses such URLs anyway, and the password would sit in every log line and on /status.
      if (/^https?:\/\/[^/?#]*@/i.test(store)) throw new UsageError('--store URL must not carry credentials (user:password@): they would be logged; serve the store without them');
      source = await storeSource(store, trust);
      if (!source) {
        console.error('sluice serve --store: not yet available in this build.');
        return 2;
      }
    }
  } catch (error) {
    if (error instanceof UsageError) {
      console.error(`sluice serve: ${error.message}\n${USAGE}`);
      return 2;
    }
    throw error;
  }
  return serveUntilSignal(server, source);
}
