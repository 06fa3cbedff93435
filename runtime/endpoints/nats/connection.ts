/**
 * The NATS connection of one endpoint: options from the config (servers, name, TLS, one of
 * user/password, token, NKey seed, creds, all secrets by reference), connected in the background
 * and kept connected. nats.js reconnects by itself (forever, 250 ms apart, with jitter); a first
 * connect that fails is retried here with backoff (250 ms doubling to 5 s). `health()` follows the
 * client's status events; listeners hear every disconnect (running subscriptions end with 503 then,
 * clients come back with their cursor).
 */
import { connect, type NodeConnectionOptions } from '@nats-io/transport-node';
import { credsAuthenticator, nkeyAuthenticator, tokenAuthenticator, usernamePasswordAuthenticator, type NatsConnection } from '@nats-io/transport-node';
import type { NatsEndpoint as NatsEndpointConfig } from '../../../schemas/types.ts';
import type { EndpointContext, EndpointHealth } from '../endpoint.ts';
import { log } from '../../log.ts';

const MIN_BACKOFF_MS = 250;
const MAX_BACKOFF_MS = 5_000;
const CONNECT_TIMEOUT_MS = 3_000;

export interface NatsConnectionHolder {
  /** The connected client, or undefined while (re)connecting. */
  current(): NatsConnection | undefined;
  /** Connects in the background; resolves after the first attempt (connected or not). Never rejects. */
  start(): Promise<void>;
  health(): EndpointHealth;
  /** Called on every lost connection (not on close()). Returns the unsubscribe. */
  onDisconnect(listener: () => void): () => void;
  readonly servers: string;
  close(): Promise<void>;
}

export function connectionOptions(config: NatsEndpointConfig, context: EndpointContext, name: string): NodeConnectionOptions {
  const security = config.security;
  const authenticators = [
    ...(security?.auth ? [usernamePasswordAuthenticator(security.auth.username, context.resolveSecret(security.auth.password))] : []),
    ...(security?.token ? [tokenAuthenticator(context.resolveSecret(security.token))] : []),
    ...(security?.nkey ? [nkeyAuthenticator(new TextEncoder().encode(context.resolveSecret(security.nkey).trim()))] : []),
    ...(security?.credentials ? [credsAuthenticator(new TextEncoder().encode(context.resolveSecret(security.credentials)))] : []),
  ];
  const tls = security?.tls?.enabled === true;
  return {
    servers: [...config.servers],
    name,
    timeout: CONNECT_TIMEOUT_MS,
    reconnect: true,
    maxReconnectAttempts: -1,
    reconnectTimeWait: MIN_BACKOFF_MS,
    pingInterval: 10_000,
    maxPingOut: 2,
    ...(authenticators.length > 0 ? { authenticator: authenticators } : {}),
    // nats.js hands these to tls.connect (rejectUnauthorized included).
    ...(tls ? { tls: { ...(security?.tls?.ca ? { ca: security.tls.ca } : {}), rejectUnauthorized: security?.tls?.rejectUnauthorized ?? true } as NodeConnectionOptions['tls'] } : {}),
  };
}

export function natsConnection(options: NodeConnectionOptions, logger: typeof log): NatsConnectionHolder {
  const servers = [options.servers ?? []].flat().join(',');
  let nc: NatsConnection | undefined;
  let health: EndpointHealth = { healthy: false, detail: 'not started' };
  let closed = false;
  let timer: NodeJS.Timeout | undefined;
  let first: Promise<void> | undefined;
  const listeners = new Set<() => void>();

  const setHealth = (next: EndpointHealth) => {
    if (next.healthy !== health.healthy) {
      if (next.healthy) logger.info({ servers }, 'nats endpoint connected');
      else logger.error({ detail: next.detail }, 'nats endpoint unhealthy');
    }
    health = next;
  };
  const lost = (detail: string) => {
    setHealth({ healthy: false, detail: `NATS ${servers} unreachable: ${detail}` });
    for (const listener of [...listeners]) listener();
  };

  const watch = async (client: NatsConnection) => {
    for await (const status of client.status()) {
      if (closed) return;
      if (status.type === 'disconnect') lost('disconnected');
      else if (status.type === 'reconnect') setHealth({ healthy: true });
      else if (status.type === 'error') logger.debug({ err: status.error.message }, 'nats client error');
    }
  };

  const attempt = async (failures: number): Promise<void> => {
    if (closed) return;
    try {
      const client = await connect(options);
      if (closed) return void client.close().catch(() => {});
      nc = client;
      setHealth({ healthy: true });
      void watch(client);
      void client.closed().then((error) => {
        if (closed || nc !== client) return;
        nc = undefined;
        lost(error?.message ?? 'connection closed');
        schedule(0);
      });
    } catch (error) {
      setHealth({ healthy: false, detail: `NATS ${servers} unreachable: ${(error as Error).message}` });
      schedule(failures + 1);
    }
  };
  const schedule = (failures: number) => {
    if (closed) return;
    timer = setTimeout(() => void attempt(failures), Math.min(MAX_BACKOFF_MS, MIN_BACKOFF_MS * 2 ** Math.max(0, failures - 1)));
    timer.unref();
  };

  return {
    servers,
    current: () => (nc && !nc.isClosed() && health.healthy ? nc : undefined),
    start: () => (first ??= attempt(0)),
    health: () => health,
    onDisconnect(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    async close() {
      closed = true;
      clearTimeout(timer);
      await first;
      health = { healthy: false, detail: 'stopped' };
      const client = nc;
      nc = undefined;
      if (client) await client.close().catch(() => {});
    },
  };
}
