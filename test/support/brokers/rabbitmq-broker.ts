/**
 * Starts a real RabbitMQ 3 broker for tests: its own Erlang node (`sluice-<port>@localhost`) on
 * free loopback ports (AMQP and distribution), with its database, logs, config, enabled-plugins
 * file and Erlang cookie (HOME) in a fresh temp dir; the machine's epmd may be shared. Readiness is
 * an AMQP connect, never a sleep; when it does not come up, the error carries the node's log.
 *
 * `stop()` kills the node and keeps its database (durable queues and their messages survive);
 * `start()` starts it again on the same ports (for broker-outage tests); `close()` stops and
 * removes the temp dir. All idempotent. `ctl(...args)` runs `rabbitmqctl -n <node>` against it
 * (the broker's own listing: `list_queues`, `list_consumers`).
 */
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import amqp from 'amqplib';
import { loopbackPort } from './loopback-port.ts';
import { pollReady, startBrokerProcess } from './broker-process.ts';

const READY_TIMEOUT_MS = 60_000;
/** The Debian package's scripts: run as the current user (/usr/sbin/rabbitmq-* switch to the rabbitmq user). */
const SCRIPTS = '/usr/lib/rabbitmq/bin';

export interface RabbitBroker {
  /** `amqp://guest:guest@127.0.0.1:<port>` */
  readonly url: string;
  readonly port: number;
  /** The amqps listener's port, with `tls`. */
  readonly tlsPort?: number;
  readonly node: string;
  start(): Promise<void>;
  stop(): Promise<void>;
  close(): Promise<void>;
  log(): string;
  /** `rabbitmqctl -n <node> ...args`, its stdout. */
  ctl(...args: string[]): Promise<string>;
}

export interface RabbitOptions {
  /** AMQP port on 127.0.0.1 (default: a free one). */
  readonly port?: number;
  /** PEM certificate and key: an amqps listener on another free loopback port (no client certificates). */
  readonly tls?: { readonly cert: string; readonly key: string };
}

export async function startRabbit(options: RabbitOptions = {}): Promise<RabbitBroker> {
  const port = options.port ?? (await loopbackPort());
  const tlsPort = options.tls ? await loopbackPort() : undefined;
  const distPort = await loopbackPort();
  const dir = mkdtempSync(join(tmpdir(), 'sluice-rabbitmq-'));
  const node = `sluice-${port}@localhost`;
  mkdirSync(join(dir, 'home'));
  // guest may connect from loopback only by default, which is where tests connect from.
  const tls: string[] = [];
  if (options.tls) {
    writeFileSync(join(dir, 'cert.pem'), options.tls.cert);
    writeFileSync(join(dir, 'key.pem'), options.tls.key, { mode: 0o600 });
    tls.push(`listeners.ssl.1 = 127.0.0.1:${tlsPort}`, `ssl_options.certfile = ${join(dir, 'cert.pem')}`, `ssl_options.keyfile = ${join(dir, 'key.pem')}`,
      'ssl_options.verify = verify_none', 'ssl_options.fail_if_no_peer_cert = false');
  }
  writeFileSync(join(dir, 'rabbitmq.conf'), ['log.console = true', 'log.console.level = warning', 'log.file = false', ...tls, ''].join('\n'));
  writeFileSync(join(dir, 'enabled_plugins'), '[].\n');
  writeFileSync(join(dir, 'rabbitmq-env.conf'), '');
  const env = {
    ...process.env,
    HOME: join(dir, 'home'),
    RABBITMQ_NODENAME: node,
    RABBITMQ_NODE_IP_ADDRESS: '127.0.0.1',
    RABBITMQ_NODE_PORT: String(port),
    RABBITMQ_DIST_PORT: String(distPort),
    RABBITMQ_MNESIA_BASE: join(dir, 'mnesia'),
    RABBITMQ_LOG_BASE: join(dir, 'log'),
    RABBITMQ_CONFIG_FILE: join(dir, 'rabbitmq'),
    RABBITMQ_ADVANCED_CONFIG_FILE: join(dir, 'advanced.config'),
    RABBITMQ_ENABLED_PLUGINS_FILE: join(dir, 'enabled_plugins'),
    RABBITMQ_CONF_ENV_FILE: join(dir, 'rabbitmq-env.conf'),
    RABBITMQ_PID_FILE: join(dir, 'pid'),
    // The script then execs the Erlang VM (no shell in between), so killing the child kills the node.
    RUNNING_UNDER_SYSTEMD: 'true',
  };
  const url = `amqp://guest:guest@127.0.0.1:${port}`;
  const broker = await startBrokerProcess({
    name: 'RabbitMQ',
    command: join(SCRIPTS, 'rabbitmq-server'),
    args: [],
    cwd: dir,
    env,
    address: `127.0.0.1:${port}`,
    ready: () => ready(url),
    installHint: 'apt-get install rabbitmq-server',
    logLimit: 64 * 1024,
  });
  return {
    url,
    port,
    ...(tlsPort !== undefined ? { tlsPort } : {}),
    node,
    ...broker,
    ctl: (...args) =>
      new Promise((resolve, reject) =>
        execFile(join(SCRIPTS, 'rabbitmqctl'), ['-n', node, '-q', ...args], { env, timeout: 60_000 }, (error, stdout, stderr) =>
          error ? reject(new Error(`rabbitmqctl ${args.join(' ')}: ${error.message}\n${stderr}`)) : resolve(stdout),
        ),
      ),
  };
}

function ready(url: string): Promise<void> {
  return pollReady(async () => {
    const connection = await amqp.connect(url, { timeout: 2000 });
    await connection.close();
  }, READY_TIMEOUT_MS, 150);
}
