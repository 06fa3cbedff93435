/**
 * Independent broker clients for the end-to-end tests: kcat and mosquitto_pub/_sub processes,
 * never the gateway's own code. Each call is bounded and fails with the tool's stderr.
 */
import { spawn } from 'node:child_process';

interface Run {
  readonly stdout: Buffer;
  readonly stderr: string;
}

/** Runs a command to completion (stdin from `input`), rejecting on a non-zero exit or after `ms`. */
export function run(command: string, args: readonly string[], input?: string | Buffer, ms = 20_000): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    let err = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${command} ${args.join(' ')} did not finish within ${ms} ms: ${err}`));
    }, ms);
    child.stdout.on('data', (c: Buffer) => out.push(c));
    child.stderr.on('data', (c: Buffer) => (err += c));
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(new Error(`cannot run ${command}: ${e.message} (apt-get install kcat mosquitto-clients)`));
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      if (code === 0) resolve({ stdout: Buffer.concat(out), stderr: err });
      else reject(new Error(`${command} ${args.join(' ')} exited ${code}: ${err}`));
    });
    // A command that exits without reading its input (mosquitto_sub, a failed start) closes the pipe:
    // EPIPE here is not the failure to report (its exit code and stderr are).
    child.stdin.on('error', () => undefined);
    child.stdin.end(input ?? '');
  });
}

/** `kcat -P`: one message per line, in order; `key:value` lines when keyed. */
export async function kcatProduce(bootstrap: string, topic: string, lines: readonly string[], options: { keyed?: boolean; headers?: Record<string, string> } = {}): Promise<void> {
  const args = ['-P', '-b', bootstrap, '-t', topic, '-X', 'acks=all'];
  if (options.keyed) args.push('-K', ':');
  for (const [name, value] of Object.entries(options.headers ?? {})) args.push('-H', `${name}=${value}`);
  await run('kcat', args, lines.map((l) => `${l}\n`).join(''));
}

/** `kcat -P <file>`: the file's bytes as one message. */
export async function kcatProduceFile(bootstrap: string, topic: string, file: string): Promise<void> {
  await run('kcat', ['-P', '-b', bootstrap, '-t', topic, '-X', 'acks=all', file]);
}

export interface KcatRecord {
  readonly key: string;
  readonly headers: Record<string, string>;
  readonly payload: string;
}

/** `kcat -C` from the beginning: the first `count` records with key, headers and payload. */
export async function kcatConsume(bootstrap: string, topic: string, count: number): Promise<KcatRecord[]> {
  const { stdout } = await run('kcat', ['-C', '-b', bootstrap, '-t', topic, '-o', 'beginning', '-c', String(count), '-e', '-f', '%k\\t%h\\t%s\\n'], undefined, 30_000);
  return stdout.toString('utf8').split('\n').filter(Boolean).map((line) => {
    const [key = '', headers = '', ...payload] = line.split('\t');
    return {
      key,
      headers: Object.fromEntries(headers.split(',').filter((h) => h.includes('=')).map((h) => [h.slice(0, h.indexOf('=')), h.slice(h.indexOf('=') + 1)])),
      payload: payload.join('\t'),
    };
  });
}

/** `mosquitto_pub` of one message (MQTT 5, QoS 1). */
export async function mosquittoPub(url: string, topic: string, message: string): Promise<void> {
  const { hostname, port } = new URL(url);
  await run('mosquitto_pub', ['-V', 'mqttv5', '-h', hostname, '-p', port, '-q', '1', '-t', topic, '-m', message]);
}

/**
 * `mosquitto_sub` for `count` messages on `topic`; resolves once it is subscribed (its SUBACK
 * debug line), with `messages` resolving to what it printed.
 */
export function mosquittoSub(url: string, topic: string, count: number, ms = 20_000): Promise<{ messages: Promise<string[]> }> {
  const { hostname, port } = new URL(url);
  return new Promise((resolveReady, rejectReady) => {
    // stdbuf: mosquitto_sub block-buffers a piped stdout, which would hide the SUBACK line until it exits.
    const child = spawn('stdbuf', ['-oL', 'mosquitto_sub', '-V', 'mqttv5', '-d', '-h', hostname, '-p', port, '-q', '1', '-t', topic, '-C', String(count), '-F', 'MSG %p'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let ready = false;
    const timer = setTimeout(() => child.kill('SIGKILL'), ms);
    child.on('error', (e) => rejectReady(new Error(`cannot run mosquitto_sub: ${e.message}`)));
    const messages = new Promise<string[]>((resolve, reject) => {
      child.on('close', (code) => {
        clearTimeout(timer);
        const got = out.split('\n').filter((l) => l.startsWith('MSG ')).map((l) => l.slice(4));
        if (code === 0) resolve(got);
        else reject(new Error(`mosquitto_sub exited ${code} with ${got.length} messages:\n${out}`));
      });
    });
    messages.catch(() => {});
    child.stdout.on('data', (c: Buffer) => {
      out += c;
      if (!ready && out.includes('SUBACK')) {
        ready = true;
        resolveReady({ messages });
      }
    });
  });
}

const AMQP_CLI = ['bin/run-ts.js', 'test/brokers-e2e/amqp-cli.ts'];

/** Publishes one persistent message with an amqplib client in a separate process; resolves after the broker's confirm. */
export async function amqpPublish(url: string, exchange: string, routingKey: string, text: string, headers: Record<string, string> = {}): Promise<void> {
  await run(process.execPath, [...AMQP_CLI, 'publish', url, exchange, routingKey, text, ...Object.entries(headers).map(([k, v]) => `${k}=${v}`)]);
}

export interface AmqpReceived {
  readonly content: string;
  readonly routingKey: string;
  readonly headers: Record<string, string>;
}

/** Consumes (and acks) `count` messages of `queue` with an amqplib client in a separate process. */
export async function amqpConsume(url: string, queue: string, count: number, ms = 30_000): Promise<AmqpReceived[]> {
  const { stdout } = await run(process.execPath, [...AMQP_CLI, 'consume', url, queue, String(count)], undefined, ms);
  return stdout.toString('utf8').split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as AmqpReceived);
}

const NATS_CLI = new URL('./nats-cli.mjs', import.meta.url).pathname;

/** Publishes with nats.js in a separate process (core, or JetStream acknowledged): returns the stream sequences printed. */
export async function natsPub(url: string, subject: string, texts: readonly string[], options: { headers?: Record<string, string>; jetstream?: boolean } = {}): Promise<number[]> {
  const spec = Object.entries(options.headers ?? {}).map(([k, v]) => `${k}=${v}`).join(',') || '-';
  const { stdout } = await run(process.execPath, [NATS_CLI, options.jetstream ? 'jspub' : 'pub', url, subject, spec, ...texts]);
  return stdout.toString('utf8').split('\n').filter(Boolean).map(Number);
}

/** A NATS subscriber in a separate process; `ready` resolves once it subscribed, `messages` once `count` arrived. */
export function natsSub(url: string, subject: string, count: number, ms = 20_000): { ready: Promise<void>; messages: Promise<Array<{ subject: string; data: string; headers: Record<string, string> }>> } {
  const child = spawn(process.execPath, [NATS_CLI, 'sub', url, subject, String(count)], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  let markReady!: () => void;
  const ready = new Promise<void>((resolve) => (markReady = resolve));
  child.stdout.on('data', (c: Buffer) => {
    out += c.toString('utf8');
    if (out.startsWith('ready\n')) markReady();
  });
  child.stderr.on('data', (c: Buffer) => (err += c));
  const messages = new Promise<Array<{ subject: string; data: string; headers: Record<string, string> }>>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`nats subscriber got no ${count} messages within ${ms} ms: ${out} ${err}`));
    }, ms);
    child.on('close', (code) => {
      clearTimeout(timer);
      if (code !== 0) return reject(new Error(`nats subscriber exited ${code}: ${err}`));
      resolve(out.split('\n').slice(1).filter(Boolean).map((line) => JSON.parse(line)));
    });
  });
  messages.catch(() => undefined);
  return { ready, messages };
}
