/**
 * Starts a real nats-server (JetStream on, store in a temp dir) for tests on free loopback ports:
 * the client port and the monitoring port (`/connz`, `/jsz`: what the server itself says about
 * its connections, subscriptions and consumers). Readiness is a NATS connect plus a JetStream
 * account info, never a sleep; when it does not come up, the error carries its log.
 *
 * `stop()` kills it, `start()` starts it again on the same ports with the same store (JetStream
 * keeps what it acknowledged), `close()` stops and removes the temp dir. All idempotent.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from '@nats-io/transport-node';
import { jetstreamManager } from '@nats-io/jetstream';
import { loopbackPort } from './loopback-port.ts';
import { brokerProcess } from './broker-process.ts';

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

/**
 * `port`: 127.0.0.1 port to listen on (default: a free one). `auth`: the server requires this user
 * and password (readiness connects with them).
 */
export async function startNats(port?: number, auth?: { user: string; pass: string }): Promise<NatsBroker> {
  port ??= await loopbackPort();
  const monitorPort = await loopbackPort();
  const dir = mkdtempSync(join(tmpdir(), 'sluice-nats-'));
  const url = `nats://127.0.0.1:${port}`;
  const process_ = brokerProcess({
    name: 'nats-server',
    command: process.env.NATS_SERVER ?? 'nats-server',
    args: ['-a', '127.0.0.1', '-p', String(port), '-m', String(monitorPort), '-js', '-sd', join(dir, 'store'), ...(auth ? ['--user', auth.user, '--pass', auth.pass] : [])],
    cwd: dir,
    address: url,
    ready: () => ready(url, auth),
    installHint: 'apt-get install nats-server',
    logLimit: 32_768,
  });
  const broker: NatsBroker = {
    url,
    port,
    monitor: `http://127.0.0.1:${monitorPort}`,
    log: process_.log,
    start: process_.start,
    stop: process_.stop,
    async close() {
      await broker.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  await broker.start();
  return broker;
}

async function ready(url: string, auth?: { user: string; pass: string }): Promise<void> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const nc = await connect({ servers: url, reconnect: false, timeout: 2_000, ...auth });
      try {
        await (await jetstreamManager(nc)).getAccountInfo();
      } finally {
        await nc.close();
      }
      return;
    } catch (error) {
      last = error;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  throw new Error(`not ready after ${READY_TIMEOUT_MS} ms: ${(last as Error)?.message ?? last}`);
}
