/**
 * Options shared by `sluice serve` and `sluice dev`, and running a gateway until SIGTERM/SIGINT.
 */
import { readFileSync } from 'node:fs';
import { parseArgs, UsageError, type ParsedArgs } from './args.ts';
import { startGateway, type Gateway } from '../runtime/gateway.ts';
import type { BundleSource } from '../runtime/sources/source.ts';
import { log, setLogLevel } from '../runtime/log.ts';
import { parseRateLimitFlags, RATE_LIMIT_FLAGS, startRateLimits, type RateLimitSettings } from './rate-limit-options.ts';
import { parseAllowedHosts, type AllowedHost } from '../runtime/entrypoints/webhook/allowed-hosts.ts';
import { parseAuthFailureLimit, type AuthFailureLimit } from '../runtime/plans/auth-failures.ts';
import { parseTrustedProxies, type TrustedProxies } from '../runtime/client-address.ts';
import { parseCatalogPath } from '../runtime/catalog/route.ts';

export { UsageError };

export const SERVER_FLAGS = ['--port', '--admin-port', '--host', '--admin-host', '--tls-cert', '--tls-key', '--log-level', '--webhook-allowed-hosts', '--auth-failure-limit', '--trusted-proxies', '--catalog-path', ...RATE_LIMIT_FLAGS] as const;

export interface ServerFlags {
  readonly host: string;
  readonly port: number;
  readonly adminPort: number;
  /** --admin-host: 127.0.0.1 unless given, even when --host exposes the gateway port. */
  readonly adminHost: string;
  readonly tls?: { cert: Buffer; key: Buffer };
  /** --redis, --redis-key-prefix, --rate-limit-error-strategy */
  readonly rateLimits?: RateLimitSettings;
  /** --trusted-proxies CIDR,…: peers whose Forwarded / X-Forwarded-For name the client address. */
  readonly trustedProxies?: TrustedProxies;
  /** --auth-failure-limit N/SECONDS (default 20/10; 0: null, off). */
  readonly authFailureLimit: AuthFailureLimit | null;
  /** --webhook-allowed-hosts host,… (absent: any host). */
  readonly webhookAllowedHosts?: readonly AllowedHost[];
  /** --catalog-path PATH: where the gateway port serves the developer catalog (default /catalog; '': none). */
  readonly catalogPath: string;
}

function port(value: string | undefined, fallback: number, name: string): number {
  if (value === undefined) return fallback;
  if (!/^\d{1,5}$/.test(value) || Number(value) > 65535) throw new UsageError(`${name} must be a port number (got "${value}")`);
  return Number(value);
}

export function parseServerFlags(args: readonly string[], valued: readonly string[]): { parsed: ParsedArgs; server: ServerFlags } {
  const parsed = parseArgs(args, [...SERVER_FLAGS, ...valued], [], ['--catalog-path']);
  const { flags } = parsed;
  const level = flags.get('--log-level');
  if (level !== undefined) {
    if (!['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].includes(level)) throw new UsageError(`--log-level must be fatal, error, warn, info, debug, trace or silent`);
    setLogLevel(level);
  }
  const allowedHosts = flags.get('--webhook-allowed-hosts');
  let webhookAllowedHosts: AllowedHost[] | undefined;
  let authFailureLimit: AuthFailureLimit | null;
  try {
    if (allowedHosts !== undefined) webhookAllowedHosts = parseAllowedHosts(allowedHosts);
    // Failed authentications per client address (IPv4, IPv6 /64): default 20/10, 0 turns it off.
    authFailureLimit = parseAuthFailureLimit(flags.get('--auth-failure-limit'));
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  const proxies = flags.get('--trusted-proxies');
  let trustedProxies: TrustedProxies | undefined;
  try {
    if (proxies !== undefined) trustedProxies = parseTrustedProxies(proxies);
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  let catalogPath: string;
  try {
    catalogPath = parseCatalogPath(flags.get('--catalog-path') ?? '/catalog');
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  const certFile = flags.get('--tls-cert');
  const keyFile = flags.get('--tls-key');
  if ((certFile === undefined) !== (keyFile === undefined)) throw new UsageError('--tls-cert and --tls-key go together');
  let tls: ServerFlags['tls'];
  if (certFile && keyFile) {
    try {
      tls = { cert: readFileSync(certFile), key: readFileSync(keyFile) };
    } catch (error) {
      throw new UsageError(`cannot read the TLS files: ${(error as Error).message}`);
    }
  }
  return {
    parsed,
    server: {
      host: flags.get('--host') ?? '127.0.0.1',
      port: port(flags.get('--port'), 8082, '--port'),
      adminPort: port(flags.get('--admin-port'), 18082, '--admin-port'),
      adminHost: flags.get('--admin-host') ?? '127.0.0.1',
      tls,
      rateLimits: parseRateLimitFlags(flags),
      ...(trustedProxies ? { trustedProxies } : {}),
      authFailureLimit,
      ...(webhookAllowedHosts ? { webhookAllowedHosts } : {}),
      catalogPath,
    },
  };
}

/** Why listening failed, naming the address and, when it is busy, the flag that changes it. */
function listenFailure(error: NodeJS.ErrnoException & { address?: string; port?: number }, server: ServerFlags): string {
  if (error.code !== 'EADDRINUSE') return error.message;
  const flag = error.port === server.adminPort ? '--admin-port' : '--port';
  return `${error.address ?? server.host}:${error.port} is in use (another gateway or program listens there); choose another with ${flag} PORT`;
}

/** Starts the gateway and serves until SIGTERM/SIGINT; graceful shutdown ends within 10 s. Returns the exit code. */
export async function serveUntilSignal(server: ServerFlags, source: BundleSource): Promise<number> {
  let gateway: Gateway;
  const rateLimits = await startRateLimits(server.rateLimits ?? { errorStrategy: 'allow' });
  const closeRateLimits = rateLimits.close;
  try {
    gateway = await startGateway({ ...server, rateLimits, source, shutdownGraceMs: 7000, catalog: { path: server.catalogPath } });
  } catch (error) {
    console.error(`sluice: cannot listen: ${listenFailure(error as NodeJS.ErrnoException & { address?: string; port?: number }, server)}`);
    await closeRateLimits();
    return 1;
  }
  console.error(`sluice: serving ${gateway.url} (admin ${gateway.adminUrl}) from ${source.description}`);
  return new Promise<number>((resolve) => {
    let stopping = false;
    const stop = (signal: NodeJS.Signals) => {
      if (stopping) {
        log.warn({ signal }, 'second signal: exiting now');
        process.exit(1);
      }
      stopping = true;
      log.info({ event: 'shutdown', signal }, 'shutting down');
      const deadline = setTimeout(() => {
        log.warn('shutdown took too long; exiting');
        process.exit(0);
      }, 9500);
      deadline.unref();
      gateway.close().then(
        () => resolve(0),
        (error) => {
          log.error({ err: error }, 'shutdown failed');
          resolve(1);
        },
      ).finally(() => {
        void closeRateLimits();
        clearTimeout(deadline);
        process.off('SIGTERM', stop);
        process.off('SIGINT', stop);
      });
    };
    process.on('SIGTERM', stop);
    process.on('SIGINT', stop);
  });
}
