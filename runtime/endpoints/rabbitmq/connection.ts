/**
 * One AMQP connection that keeps itself up: connects at `start()`, and whenever the broker closes
 * it (restart, network, heartbeat timeout) reconnects with backoff (250 ms doubling to 5 s) until
 * `stop()`. Listeners registered with `onConnected` run on every (re)connection, so consumers are
 * set up again on the new connection. Health says why it is down; `blocked` is set while the
 * broker blocks publishing (a resource alarm, `connection.blocked`).
 */
import { isIP } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import amqp, { type ChannelModel, type Options } from 'amqplib';
import type { RabbitmqEndpoint as RabbitmqEndpointConfig } from '../../../schemas/types.ts';
import type { EndpointContext, EndpointHealth } from '../endpoint.ts';
import type { Logger } from '../../log.ts';

const MIN_BACKOFF_MS = 250;
const MAX_BACKOFF_MS = 5_000;
const CONNECT_TIMEOUT_MS = 5_000;
/** Frames RabbitMQ sends are at most its negotiated frame_max (128 KiB by default); anything larger is refused. */
const MAX_FRAME_BYTES = 1024 * 1024;

export interface RabbitConnection {
  readonly address: string;
  /** The live connection; undefined while down. */
  current(): ChannelModel | undefined;
  /** Why publishing is blocked by the broker, while it is. */
  blocked(): string | undefined;
  health(): EndpointHealth;
  /** Starts connecting; resolves once the first attempt settled (never rejects: a broker that is down is retried). */
  start(): Promise<void>;
  /** Runs on every (re)connection; returns the unregister function. */
  onConnected(listener: (model: ChannelModel) => void): () => void;
  stop(): Promise<void>;
}

export function connectOptions(config: RabbitmqEndpointConfig, context: EndpointContext): { url: Options.Connect; socket: Record<string, unknown>; address: string } {
  const tls = config.security?.ssl?.enabled === true;
  const auth = config.security?.auth;
  const port = config.serverPort ?? (tls ? 5671 : 5672);
  return {
    address: `${config.serverHost}:${port}`,
    url: {
      protocol: tls ? 'amqps' : 'amqp',
      hostname: config.serverHost,
      port,
      vhost: config.vhost ?? '/',
      heartbeat: config.heartbeat ?? 30,
      maxFrameSize: MAX_FRAME_BYTES,
      ...(auth ? { username: auth.username, password: context.resolveSecret(auth.password) } : {}),
    },
    socket: {
      timeout: CONNECT_TIMEOUT_MS,
      clientProperties: { connection_name: `sluice-${context.apiId}-${context.instanceId}` },
      ...(tls
        ? { ...(isIP(config.serverHost) ? {} : { servername: config.serverHost }), rejectUnauthorized: config.security?.ssl?.rejectUnauthorized ?? true, ...(config.security?.ssl?.ca ? { ca: [config.security.ssl.ca] } : {}) }
        : {}),
    },
  };
}

export function rabbitConnection(options: ReturnType<typeof connectOptions>, logger: Logger): RabbitConnection {
  let model: ChannelModel | undefined;
  let blockedReason: string | undefined;
  let health: EndpointHealth = { healthy: false, detail: 'not started' };
  let running: Promise<void> | undefined;
  const listeners = new Set<(model: ChannelModel) => void>();
  const stopping = new AbortController();
  let firstAttempt: () => void = () => {};
  const firstSettled = new Promise<void>((resolve) => (firstAttempt = resolve));

  async function loop(): Promise<void> {
    let backoff = MIN_BACKOFF_MS;
    while (!stopping.signal.aborted) {
      try {
        const connected = await amqp.connect(options.url, options.socket);
        if (stopping.signal.aborted) {
          await connected.close().catch(() => {});
          return;
        }
        let lastError = 'the broker closed the connection';
        const closed = new Promise<void>((resolve) => connected.once('close', () => resolve()));
        connected.on('error', (error: Error) => (lastError = error.message));
        connected.on('blocked', (reason: string) => {
          blockedReason = reason || 'resource alarm';
          logger.warn({ broker: options.address, reason }, 'RabbitMQ blocked publishing');
        });
        connected.on('unblocked', () => (blockedReason = undefined));
        model = connected;
        blockedReason = undefined;
        health = { healthy: true };
        backoff = MIN_BACKOFF_MS;
        logger.info({ broker: options.address }, 'rabbitmq endpoint connected');
        firstAttempt();
        for (const listener of listeners) listener(connected);
        await closed;
        model = undefined;
        if (stopping.signal.aborted) return;
        health = { healthy: false, detail: `RabbitMQ broker ${options.address} unreachable: ${lastError}` };
        logger.warn({ broker: options.address, err: lastError }, 'rabbitmq endpoint disconnected');
      } catch (error) {
        health = { healthy: false, detail: `RabbitMQ broker ${options.address} unreachable: ${(error as Error).message}` };
        firstAttempt();
      }
      // stop() ends the wait at once (its AbortError swallowed; the loop condition then exits).
      await sleep(backoff, undefined, { signal: stopping.signal }).catch(() => {});
      backoff = Math.min(MAX_BACKOFF_MS, backoff * 2);
    }
  }

  return {
    address: options.address,
    current: () => model,
    blocked: () => blockedReason,
    health: () => (running ? health : { healthy: false, detail: stopping.signal.aborted ? 'stopped' : 'not started' }),
    async start() {
      if (stopping.signal.aborted) return;
      running ??= loop();
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([firstSettled, new Promise<void>((resolve) => (timer = setTimeout(resolve, CONNECT_TIMEOUT_MS)))]);
      clearTimeout(timer);
    },
    onConnected(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    async stop() {
      if (stopping.signal.aborted) return;
      stopping.abort();
      health = { healthy: false, detail: 'stopped' };
      const open = model;
      model = undefined;
      await open?.close().catch(() => {});
      await running;
    },
  };
}
