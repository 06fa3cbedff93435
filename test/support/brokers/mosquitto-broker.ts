/**
 * Starts a real Mosquitto 2 broker (MQTT 5 capable) for tests on a free loopback port with a
 * generated config (anonymous, no persistence). Readiness is an MQTT 5 connect, never a sleep;
 * when it does not come up, the error carries its log.
 *
 * `stop()` kills it, `start()` starts it again on the same port, `close()` stops and removes the
 * temp dir. All idempotent.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { loopbackPort } from './loopback-port.ts';
import { pollReady, startBrokerProcess } from './broker-process.ts';

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
  const broker = await startBrokerProcess({
    name: 'Mosquitto',
    command: 'mosquitto',
    args: ['-c', conf],
    cwd: dir,
    address: url,
    ready: () => ready(url),
    installHint: 'apt-get install mosquitto',
    logLimit: 32_768,
  });
  return { url, port, ...broker };
}

function ready(url: string): Promise<void> {
  return pollReady(async () => {
    const client = await mqtt.connectAsync(url, { protocolVersion: 5, reconnectPeriod: 0, connectTimeout: 2000 });
    await client.endAsync(true);
  }, READY_TIMEOUT_MS);
}
