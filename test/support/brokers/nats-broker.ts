/**
 * Starts a real nats-server (JetStream on, store in a temp dir) for tests on free loopback ports:
 * the client port and the monitoring port (`/connz`, `/jsz`: what the server itself says about
 * its connections, subscriptions and consumers). Readiness is a NATS connect plus a JetStream
 * account info, never a sleep; when it does not come up, the error carries its log.
 *
 * `stop()` kills it, `start()` starts it again on the same ports with the same store (JetStream
 * keeps what it acknowledged), `close()` stops and removes the temp dir. All idempotent.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, type NodeConnectionOptions } from '@nats-io/transport-node';
import { jetstreamManager } from '@nats-io/jetstream';
import { loopbackPort } from './loopback-port.ts';
import { pollReady, startBrokerProcess } from './broker-process.ts';

const READY_TIMEOUT_MS = 20_000;

export interface NatsBroker {
  /** `nats://127.0.0.1:<port>`. */
  readonly url: string;
  readonly port: number;
  /** `http://127.0.0.1:<port>` of the monitoring endpoint. */
  readonly monitor: string;
  start(): Promise<void>;
  stop(): Promise<void>;
  close(): Promise<void>;
  log(): string;
}

/** More of the server's security, each optional (all additive to `auth`). */
export interface NatsSecurityOptions {
  /** PEM server certificate and key (`--tls --tlscert --tlskey`); `ca` is what readiness trusts. */
  readonly tls?: { readonly cert: string; readonly key: string; readonly ca: string };
  /** The server requires this token (`--auth`). */
  readonly token?: string;
  /** A config file's content (`-c`), e.g. an `authorization { users = [{ nkey: U... }] }` block. */
  readonly config?: string;
  /** How readiness connects (an authenticator for what `config` requires). */
  readonly connect?: Partial<NodeConnectionOptions>;
}

/**
 * `port`: 127.0.0.1 port to listen on (default: a free one). `auth`: the server requires this user
 * and password (readiness connects with them). `security`: TLS, a token, a config file.
 */
export async function startNats(port?: number, auth?: { user: string; pass: string }, security: NatsSecurityOptions = {}): Promise<NatsBroker> {
  port ??= await loopbackPort();
  const monitorPort = await loopbackPort();
  const dir = mkdtempSync(join(tmpdir(), 'sluice-nats-'));
  const url = `nats://127.0.0.1:${port}`;
  const extra: string[] = [];
  if (security.tls) {
    writeFileSync(join(dir, 'cert.pem'), security.tls.cert);
    writeFileSync(join(dir, 'key.pem'), security.tls.key, { mode: 0o600 });
    extra.push('--tls', '--tlscert', join(dir, 'cert.pem'), '--tlskey', join(dir, 'key.pem'));
  }
  if (security.token) extra.push('--auth', security.token);
  if (security.config) {
    writeFileSync(join(dir, 'nats.conf'), security.config, { mode: 0o600 });
    extra.push('-c', join(dir, 'nats.conf'));
  }
  const readyWith: Partial<NodeConnectionOptions> = {
    ...auth,
    ...(security.tls ? { tls: { ca: security.tls.ca } } : {}),
    ...(security.token ? { token: security.token } : {}),
    ...security.connect,
  };
  const broker = await startBrokerProcess({
    name: 'nats-server',
    command: process.env.NATS_SERVER ?? 'nats-server',
    args: ['-a', '127.0.0.1', '-p', String(port), '-m', String(monitorPort), '-js', '-sd', join(dir, 'store'), ...(auth ? ['--user', auth.user, '--pass', auth.pass] : []), ...extra],
    cwd: dir,
    address: url,
    ready: () => ready(url, readyWith),
    installHint: 'apt-get install nats-server',
    logLimit: 32_768,
  });
  return { url, port, monitor: `http://127.0.0.1:${monitorPort}`, ...broker };
}

function ready(url: string, options: Partial<NodeConnectionOptions>): Promise<void> {
  return pollReady(async () => {
    const nc = await connect({ servers: url, reconnect: false, timeout: 2_000, ...options });
    try {
      await (await jetstreamManager(nc)).getAccountInfo();
    } finally {
      await nc.close();
    }
  }, READY_TIMEOUT_MS);
}
