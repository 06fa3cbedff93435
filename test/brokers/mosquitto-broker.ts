/**
 * Starts a real Mosquitto 2 broker (MQTT 5 capable) for tests on a free loopback port with a
 * generated config (anonymous, no persistence). Readiness is an MQTT 5 connect, never a sleep;
 * when it does not come up, the error carries its log.
 *
 * `stop()` kills it, `start()` starts it again on the same port, `close()` stops and removes the
 * temp dir. All idempotent.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { loopbackPort } from './loopback-port.ts';

const READY_TIMEOUT_MS = 20_000;

export interface MosquittoBroker {
  readonly url: string;
  readonly port: number;
  start(): Promise<void>;
  stop(): Promise<void>;
  close(): Promise<void>;
  log(): string;
}

/** `port`: 127.0.0.1 port to listen on (default: a free one). */
export async function startMosquitto(port?: number): Promise<MosquittoBroker> {
  port ??= await loopbackPort();
  const dir = mkdtempSync(join(tmpdir(), 'sluice-mosquitto-'));
  const conf = join(dir, 'mosquitto.conf');
  writeFileSync(conf, [`listener ${port} 127.0.0.1`, 'allow_anonymous true', 'persistence false', 'log_dest stdout', ''].join('\n'));
  const url = `mqtt://127.0.0.1:${port}`;
  let child: ChildProcess | undefined;
  let output = '';
  const append = (c: Buffer) => (output = (output + c.toString('utf8')).slice(-32_768));
  const killOnExit = () => child?.kill('SIGKILL');

  const broker: MosquittoBroker = {
    url,
    port,
    log: () => output,
    async start() {
      if (child) return;
      const started = spawn('mosquitto', ['-c', conf], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
      child = started;
      process.once('exit', killOnExit);
      started.stdout!.on('data', append);
      started.stderr!.on('data', append);
      const exited = new Promise<never>((_, reject) => {
        started.once('error', (e) => reject(new Error(`cannot run mosquitto: ${e.message} (apt-get install mosquitto)`)));
        started.once('exit', (code, signal) => {
          if (child === started) child = undefined;
          reject(new Error(`mosquitto exited during start (code ${code}, signal ${signal})`));
        });
      });
      exited.catch(() => {});
      try {
        await Promise.race([ready(url), exited]);
      } catch (error) {
        await broker.stop();
        throw new Error(`Mosquitto did not start on ${url}: ${(error as Error).message}\n--- broker log ---\n${output}`);
      }
    },
    async stop() {
      const running = child;
      if (!running) return;
      child = undefined;
      process.removeListener('exit', killOnExit);
      if (running.exitCode !== null || running.signalCode !== null) return;
      const gone = new Promise<void>((resolve) => running.once('exit', () => resolve()));
      running.kill('SIGKILL');
      await gone;
    },
    async close() {
      await broker.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  await broker.start();
  return broker;
}

async function ready(url: string): Promise<void> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const client = await mqtt.connectAsync(url, { protocolVersion: 5, reconnectPeriod: 0, connectTimeout: 2000 });
      await client.endAsync(true);
      return;
    } catch (error) {
      last = error;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  throw new Error(`not ready after ${READY_TIMEOUT_MS} ms: ${(last as Error)?.message ?? last}`);
}
