/**
 * Options shared by `sluice serve` and `sluice dev`, and running a gateway until SIGTERM/SIGINT.
 */
import { readFileSync } from 'node:fs';
import { choice, envName, flagsFromEnv, parseArgs, unknownEnv, UsageError, type ParsedArgs } from './args.ts';
import { startGateway, type Gateway } from '../runtime/gateway.ts';
import type { BundleSource } from '../runtime/sources/source.ts';
import { log, setLogLevel } from '../runtime/log.ts';
import { parseRateLimitFlags, RATE_LIMIT_FLAGS, startRateLimits, type RateLimitSettings } from './rate-limit-options.ts';
import { parseAllowedHosts, type AllowedHost } from '../runtime/entrypoints/webhook/allowed-hosts.ts';
import { parseAuthFailureLimit, type AuthFailureLimit } from '../runtime/plans/auth-failures.ts';
import { parseTrustedProxies, type TrustedProxies } from '../runtime/http/client-address.ts';
import { parseTags } from '../runtime/routing/tags.ts';
import { defaultLogFormat, LOG_FORMATS, useLogFormat } from './log-format.ts';
import { SECRET_ENV, secretFrom, withPassword } from './secret-options.ts';
import { tracingFromEnv, type Tracing } from '../runtime/tracing/tracing.ts';
import { parseCatalogPath } from '../runtime/catalog/route.ts';

export { UsageError };

/**
 * The flags of `sluice serve` and `sluice dev`. Each also reads `SLUICE_<FLAG>` (`--admin-port` ←
 * SLUICE_ADMIN_PORT) when argv does not give it; see args.ts flagsFromEnv.
 */
export const SERVER_FLAGS = [
  '--port', '--admin-port', '--host', '--admin-host', '--tls-cert', '--tls-key', '--log-level', '--log-format', '--drain-delay',
  '--webhook-allowed-hosts', '--auth-failure-limit', '--trusted-proxies', '--catalog-path', ...RATE_LIMIT_FLAGS, '--redis-password-file', '--tags',
] as const;

/** SLUICE_* variables that are not flags: secrets (secret-options.ts) and the CLI's own. */
export const OTHER_ENV = [...SECRET_ENV, 'SLUICE_DEBUG', 'SLUICE_SIGN_KEY', 'SLUICE_FROM_SOURCES'];

/** `--drain-delay` when not given: 5 s for `serve` (behind a load balancer), none for `dev`. */
export const DEFAULT_DRAIN_DELAY_MS = { serve: 5000, dev: 0 } as const;
const MAX_DRAIN_DELAY_MS = 300_000;

export interface ServerFlags {
  readonly host: string;
  readonly port: number;
  readonly adminPort: number;
  /** --admin-host: 127.0.0.1 unless given, even when --host exposes the gateway port. */
  readonly adminHost: string;
  /** The certificate and key read at start, and their files (reloaded when they change). */
  readonly tls?: { cert: Buffer; key: Buffer; certFile: string; keyFile: string };
  /** --drain-delay: how long SIGTERM keeps serving with /readyz unready before closing. */
  readonly drainDelayMs: number;
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
  /** --tags edge,internal: serve only APIs with one of these tags (absent: only untagged APIs). */
  readonly tags?: readonly string[];
}

function port(value: string | undefined, fallback: number, name: string): number {
  if (value === undefined) return fallback;
  if (!/^\d{1,5}$/.test(value) || Number(value) > 65535) throw new UsageError(`${name} must be a port number (got "${value}")`);
  return Number(value);
}

/** `--drain-delay 5` / `5s` / `2500ms` / `0` (off), in milliseconds. */
export function parseDrainDelay(value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  const match = /^(\d+(?:\.\d+)?)(s|ms)?$/.exec(value.trim());
  const ms = match ? Number(match[1]) * (match[2] === 'ms' ? 1 : 1000) : NaN;
  if (!Number.isFinite(ms) || ms > MAX_DRAIN_DELAY_MS) throw new UsageError(`--drain-delay must be seconds from 0 to ${MAX_DRAIN_DELAY_MS / 1000} (e.g. 5, 2.5s, 500ms; got "${value}")`);
  return Math.round(ms);
}

export interface ServerFlagOptions {
  /** Which command parses (defaults differ: drain delay, log format). Default serve. */
  readonly command?: 'serve' | 'dev';
  /** Where SLUICE_* variables are read (default process.env). */
  readonly env?: NodeJS.ProcessEnv;
  /** Where warnings go (default console.error). */
  readonly warn?: (message: string) => void;
}

export function parseServerFlags(args: readonly string[], valued: readonly string[], options: ServerFlagOptions = {}): { parsed: ParsedArgs; server: ServerFlags } {
  const command = options.command ?? 'serve';
  const env = options.env ?? process.env;
  const warn = options.warn ?? ((message: string) => console.error(`sluice ${command}: warning: ${message}`));
  const allFlags = [...SERVER_FLAGS, ...valued];
  const parsed = parseArgs(args, allFlags, [], ['--catalog-path']);
  const fromArgv = new Set(parsed.flags.keys());
  const fromEnv = flagsFromEnv(parsed, allFlags, [], env);
  for (const { name, suggestion } of unknownEnv(allFlags, OTHER_ENV, env)) {
    warn(`${name} is not an option of sluice ${command}${suggestion ? ` (did you mean ${suggestion}?)` : ''}; it is ignored`);
  }
  try {
    return { parsed, server: serverSettings(parsed.flags, command, env, fromArgv, warn) };
  } catch (error) {
    // A bad value from the environment: say which variable held it.
    const flag = error instanceof UsageError ? /^--[a-z-]+/.exec(error.message)?.[0] : undefined;
    const variable = flag && fromEnv.find((name) => name === envName(flag));
    if (variable) throw new UsageError(`${error instanceof Error ? error.message : error} (from ${variable})`);
    throw error;
  }
}

function serverSettings(flags: Map<string, string>, command: 'serve' | 'dev', env: NodeJS.ProcessEnv, fromArgv: Set<string>, warn: (message: string) => void): ServerFlags {
  const format = choice(flags, '--log-format', LOG_FORMATS, defaultLogFormat(command, process.stdout.isTTY === true))!;
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
  let tags: string[] | undefined;
  try {
    catalogPath = parseCatalogPath(flags.get('--catalog-path') ?? '/catalog');
    if (flags.has('--tags')) tags = parseTags(flags.get('--tags')!);
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  const certFile = flags.get('--tls-cert');
  const keyFile = flags.get('--tls-key');
  if ((certFile === undefined) !== (keyFile === undefined)) throw new UsageError('--tls-cert and --tls-key go together');
  let tls: ServerFlags['tls'];
  if (certFile && keyFile) {
    try {
      tls = { cert: readFileSync(certFile), key: readFileSync(keyFile), certFile, keyFile };
    } catch (error) {
      throw new UsageError(`cannot read the TLS files: ${(error as Error).message}`);
    }
  }
  let rateLimits = parseRateLimitFlags(flags);
  const redisPassword = secretFrom(flags, '--redis-password-file', 'SLUICE_REDIS_PASSWORD', env);
  if (redisPassword !== undefined) {
    if (!rateLimits.redisUrl) throw new UsageError(`${flags.has('--redis-password-file') ? '--redis-password-file' : 'SLUICE_REDIS_PASSWORD'} needs --redis URL`);
    rateLimits = { ...rateLimits, redisUrl: withPassword(rateLimits.redisUrl, redisPassword) };
  } else if (fromArgv.has('--redis') && /^rediss?:\/\/[^/@]*:[^/@]*@/.test(rateLimits.redisUrl ?? '')) {
    warn('--redis carries a password on the command line, where `ps` shows it; give the URL in SLUICE_REDIS or the password in --redis-password-file FILE / SLUICE_REDIS_PASSWORD');
  }
  const settings: ServerFlags = {
    host: flags.get('--host') ?? '127.0.0.1',
    port: port(flags.get('--port'), 8082, '--port'),
    adminPort: port(flags.get('--admin-port'), 18082, '--admin-port'),
    adminHost: flags.get('--admin-host') ?? '127.0.0.1',
    tls,
    drainDelayMs: parseDrainDelay(flags.get('--drain-delay'), DEFAULT_DRAIN_DELAY_MS[command]),
    rateLimits,
    ...(trustedProxies ? { trustedProxies } : {}),
    authFailureLimit,
    ...(webhookAllowedHosts ? { webhookAllowedHosts } : {}),
    catalogPath,
    ...(tags ? { tags } : {}),
  };
  useLogFormat(format);
  return settings;
}

/** Why listening failed, naming the address and, when it is busy, the flag that changes it. */
function listenFailure(error: NodeJS.ErrnoException & { address?: string; port?: number }, server: ServerFlags): string {
  if (error.code !== 'EADDRINUSE') return error.message;
  const flag = error.port === server.adminPort ? '--admin-port' : '--port';
  return `${error.address ?? server.host}:${error.port} is in use (another gateway or program listens there); choose another with ${flag} PORT`;
}

/**
 * Starts the gateway and serves until SIGTERM/SIGINT. Shutdown: /readyz turns 503 at once (load
 * balancers stop sending), the gateway keeps serving for --drain-delay, then closes gracefully
 * within 10 s. A second signal exits at once (1). Returns the exit code.
 */
export async function serveUntilSignal(server: ServerFlags, source: BundleSource): Promise<number> {
  let gateway: Gateway;
  // OTEL_EXPORTER_OTLP_(TRACES_)ENDPOINT: spans over OTLP/HTTP (runtime/tracing/); unset: the SDK is never loaded.
  let tracing: Tracing | null;
  try {
    tracing = await tracingFromEnv(process.env);
  } catch (error) {
    console.error(`sluice: traces: ${(error as Error).message}`);
    return 2;
  }
  if (tracing) log.info({ event: 'tracing', target: tracing.target }, 'traces are exported over OTLP/HTTP');
  const rateLimits = await startRateLimits(server.rateLimits ?? { errorStrategy: 'allow' });
  const closeRateLimits = rateLimits.close;
  try {
    gateway = await startGateway({ ...server, rateLimits, source, shutdownGraceMs: 7000, tracing, catalog: { path: server.catalogPath } });
  } catch (error) {
    console.error(`sluice: cannot listen: ${listenFailure(error as NodeJS.ErrnoException & { address?: string; port?: number }, server)}`);
    await closeRateLimits();
    await tracing?.shutdown();
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
      log.info({ event: 'shutdown', signal, drainDelayMs: server.drainDelayMs }, 'shutting down');
      gateway.drain();
      const close = () => {
        const deadline = setTimeout(() => {
          log.warn('shutdown took too long; exiting');
          process.exit(0);
        }, 9500);
        deadline.unref();
        gateway.close().then(
          // The last spans (this shutdown's requests included) are exported before the process exits.
          async () => {
            await tracing?.shutdown();
            resolve(0);
          },
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
      if (server.drainDelayMs > 0) setTimeout(close, server.drainDelayMs);
      else close();
    };
    process.on('SIGTERM', stop);
    process.on('SIGINT', stop);
  });
}
