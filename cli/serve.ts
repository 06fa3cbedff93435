/**
 * `sluice serve --bundle FILE | --bundles DIR | --store DIR|URL [--trust-key PUB[,PUB]] [--port 8082] [--admin-port 18082]
 *  [--host 127.0.0.1] [--admin-host 127.0.0.1] [--tls-cert PEM --tls-key PEM] [--log-level info]
 *  [--redis URL [--redis-key-prefix P]] [--rate-limit-error-strategy allow|deny] [--webhook-allowed-hosts H1,H2] [--auth-failure-limit N/SECONDS|0] [--trusted-proxies CIDR,...]
 *  [--log-format json|pretty] [--drain-delay 5] [--store-token-file FILE] [--redis-password-file FILE] [--catalog-path /catalog] [--tags edge,internal]`
 * Every option also reads SLUICE_<OPTION> (options.ts); secrets come from files or the environment (secret-options.ts).
 */
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { BundleSource } from '../runtime/sources/source.ts';
import { fileSource } from '../runtime/sources/file.ts';
import { dirSource } from '../runtime/sources/dir.ts';
import { storeSource } from '../runtime/sources/store.ts';
import { parseServerFlags, serveUntilSignal, UsageError } from './options.ts';
import { parseTrustKeys, type BundleTrust } from '../runtime/trust.ts';
import { log } from '../runtime/log.ts';
import { secretFrom } from './secret-options.ts';

/** The flags of `serve` beyond the server flags (options.ts SERVER_FLAGS); each also reads SLUICE_<FLAG>. */
export const SERVE_FLAGS = ['--bundle', '--bundles', '--store', '--trust-key', '--store-token-file'] as const;

const USAGE = 'usage: sluice serve --bundle FILE | --bundles DIR | --store DIR|URL [--trust-key PUB[,PUB]] [--port 8082] [--admin-port 18082] [--host 127.0.0.1] [--admin-host 127.0.0.1] [--tls-cert PEM --tls-key PEM] [--log-level info] [--redis URL [--redis-key-prefix P]] [--rate-limit-error-strategy allow|deny] [--webhook-allowed-hosts H1,H2] [--auth-failure-limit N/SECONDS|0] [--trusted-proxies CIDR,...] [--log-format json|pretty] [--drain-delay 5] [--store-token-file FILE] [--redis-password-file FILE] [--catalog-path /catalog] [--tags edge,internal]\nEvery option also reads SLUICE_<OPTION> (--admin-port: SLUICE_ADMIN_PORT); the flag wins. Store token: SLUICE_STORE_TOKEN or --store-token-file.';

/** A store folder holds `current` or `bundles/` (compiler/store.ts); anything else is refused at start. */
function notAStore(dir: string): void {
  if (!existsSync(dir)) throw new UsageError(`--store ${dir} does not exist (a release makes it: \`sluice compile --ref TAG --store ${dir}\`)`);
  if (!statSync(dir).isDirectory()) throw new UsageError(`--store ${dir} is not a folder (a single bundle file is --bundle FILE)`);
  if (!existsSync(join(dir, 'current')) && !existsSync(join(dir, 'bundles'))) {
    throw new UsageError(`--store ${dir} is not a store (no current pointer, no bundles/ folder): release into it with \`sluice compile --ref TAG --store ${dir}\`, or serve a folder of bundle files with --bundles ${dir}`);
  }
}

export async function run(args: string[]): Promise<number> {
  let server;
  let source: BundleSource | undefined;
  try {
    const parsed = parseServerFlags(args, SERVE_FLAGS);
    server = parsed.server;
    const { flags, positionals } = parsed.parsed;
    if (positionals.length) throw new UsageError(`unexpected argument ${positionals[0]}`);
    const chosen = ['--bundle', '--bundles', '--store'].filter((flag) => flags.has(flag));
    if (chosen.length !== 1) throw new UsageError('give exactly one of --bundle FILE, --bundles DIR, --store DIR|URL (or SLUICE_BUNDLE, SLUICE_BUNDLES, SLUICE_STORE)');
    let trust: BundleTrust | undefined;
    if (flags.has('--trust-key')) {
      try {
        trust = parseTrustKeys(flags.get('--trust-key')!);
      } catch (error) {
        throw new UsageError((error as Error).message);
      }
      log.info({ event: 'trust', keyIds: trust.keys.map((k) => k.id) }, 'serving only bundles signed by a trusted key');
    }
    if (flags.has('--store-token-file') && !/^https?:\/\//i.test(flags.get('--store') ?? '')) throw new UsageError('--store-token-file goes with --store https://…');
    if (flags.has('--bundle')) {
      // The file is watched for changes, but a path that does not exist at start is a typo.
      const file = flags.get('--bundle')!;
      if (!existsSync(file)) throw new UsageError(`--bundle ${file} does not exist (make one with \`sluice compile APIS_DIR --out DIR\`)`);
      if (!statSync(file).isFile()) throw new UsageError(`--bundle ${file} is not a file (a folder of bundles is --bundles DIR)`);
      source = fileSource(file, { trust });
    }
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
      const remote = /^https?:\/\//i.test(store);
      if (!remote) notAStore(store);
      const token = remote ? secretFrom(flags, '--store-token-file', 'SLUICE_STORE_TOKEN', process.env) : undefined;
      if (token && /^http:\/\//i.test(store) && !/^http:\/\/(127\.0\.0\.1|localhost|\[::1\])[:/]/i.test(store)) {
        log.warn({ store }, 'the store token is sent over plain http://; serve the store over https://');
      }
      source = storeSource(store, { trust, ...(token ? { token } : {}) });
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
