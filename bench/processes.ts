/**
 * The benchmark's processes: servers under test (Sluice through its CLI, or the bare relay) and
 * the client process, each a child of bench/run.ts. Server CPU and RSS are read from
 * /proc/<pid>/stat (utime + stime, all threads) and /proc/<pid>/status (VmRSS): the same probe
 * for Sluice and the baseline, with nothing added to either server.
 */
import { spawn, fork, execFileSync, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import WebSocket from 'ws';

const TICKS_PER_SECOND = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;

/** CPU time (user + system, every thread) of a process in microseconds. */
export function cpuMicros(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // fields[0] is field 3 (state): utime is field 14, stime field 15.
  return ((Number(fields[11]) + Number(fields[12])) * 1e6) / TICKS_PER_SECOND;
}

/** Resident set size of a process in bytes. */
export function rssBytes(pid: number): number {
  const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return match ? Number(match[1]) * 1024 : Number.NaN;
}

export interface ServerProcess {
  readonly name: string;
  readonly pid: number;
  /** http://127.0.0.1:PORT */
  readonly url: string;
  readonly adminUrl?: string;
  /** stdout lines so far (Sluice's JSON log). */
  readonly lines: string[];
  cpuMicros(): number;
  rssBytes(): number;
  /** A full garbage collection in the server (through its inspector), so RSS compares live memory. */
  gc(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * Asks a node process for a full GC over the inspector protocol (HeapProfiler.collectGarbage),
 * then disconnects. The servers run with `--inspect=127.0.0.1:0`; no session is attached while
 * they are measured.
 */
async function collectGarbage(inspectorUrl: string): Promise<void> {
  const ws = new WebSocket(inspectorUrl);
  try {
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('HeapProfiler.collectGarbage timed out')), 10_000);
      ws.on('message', (data) => {
        if ((JSON.parse(String(data)) as { id?: number }).id === 1) {
          clearTimeout(timer);
          resolve();
        }
      });
      ws.send(JSON.stringify({ id: 1, method: 'HeapProfiler.collectGarbage' }));
    });
  } finally {
    ws.close();
  }
}

const INSPECTOR = /Debugger listening on (ws:\/\/\S+)/;

function track(name: string, child: ChildProcess): { lines: string[]; text: () => string; waitFor: (test: (text: string) => RegExpExecArray | null, ms: number) => Promise<RegExpExecArray> } {
  const lines: string[] = [];
  let text = '';
  let partial = '';
  const waiters = new Set<() => void>();
  const wake = () => [...waiters].forEach((w) => w());
  child.stdout!.on('data', (chunk: Buffer) => {
    partial += chunk.toString('utf8');
    const parts = partial.split('\n');
    partial = parts.pop()!;
    lines.push(...parts);
    text = (text + chunk.toString('utf8')).slice(-65_536);
    wake();
  });
  child.stderr!.on('data', (chunk: Buffer) => {
    text = (text + chunk.toString('utf8')).slice(-65_536);
    wake();
  });
  child.once('exit', wake);
  const waitFor = (test: (text: string) => RegExpExecArray | null, ms: number) => new Promise<RegExpExecArray>((resolve, reject) => {
    const timer = setTimeout(() => finish(() => reject(new Error(`${name} did not start within ${ms} ms:\n${text.slice(-3000)}`))), ms);
    const finish = (then: () => void) => {
      clearTimeout(timer);
      waiters.delete(check);
      then();
    };
    const check = () => {
      const found = test(text);
      if (found) finish(() => resolve(found));
      else if (child.exitCode !== null || child.signalCode !== null) finish(() => reject(new Error(`${name} exited:\n${text.slice(-3000)}`)));
    };
    waiters.add(check);
    check();
  });
  return { lines, text: () => text, waitFor };
}

function stopper(child: ChildProcess): () => Promise<void> {
  return async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const gone = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    await gone;
    clearTimeout(timer);
  };
}

const killOnExit = new Set<ChildProcess>();
process.once('exit', () => killOnExit.forEach((c) => c.kill('SIGKILL')));
function own(child: ChildProcess): ChildProcess {
  killOnExit.add(child);
  child.once('exit', () => killOnExit.delete(child));
  return child;
}

/** Extra node flags for the servers under test (e.g. `--cpu-prof --cpu-prof-dir DIR` from `npm run bench -- --cpu-prof DIR`). */
export const serverNodeFlags: string[] = ['--inspect=127.0.0.1:0'];

/** `node bin/sluice.js serve --bundle FILE` on free ports; resolves once /readyz answers 200. */
export async function startSluice(bundleFile: string, logLevel = 'warn', env: Readonly<Record<string, string>> = {}): Promise<ServerProcess> {
  const child = own(spawn(process.execPath, [...serverNodeFlags, 'bin/sluice.js', 'serve', '--bundle', bundleFile, '--port', '0', '--admin-port', '0', '--drain-delay', '0', '--log-level', logLevel], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } }));
  const out = track('sluice', child);
  const stop = stopper(child);
  try {
    const [, url, adminUrl] = await out.waitFor((t) => /sluice: serving (\S+) \(admin (\S+)\)/.exec(t), 30_000);
    const deadline = Date.now() + 30_000;
    while ((await fetch(`${adminUrl}/readyz`).then((r) => r.status, () => 0)) !== 200) {
      if (Date.now() > deadline) throw new Error(`sluice not ready within 30 s:\n${out.text().slice(-3000)}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    const [, inspector] = await out.waitFor((t) => INSPECTOR.exec(t), 5_000);
    return { name: 'sluice', pid: child.pid!, url: url!, adminUrl, lines: out.lines, cpuMicros: () => cpuMicros(child.pid!), rssBytes: () => rssBytes(child.pid!), gc: () => collectGarbage(inspector!), stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

/** The bare relay (bench/relay.ts) for one broker topic. */
export async function startRelay(broker: { mqtt?: string; kafka?: string; amqp?: string; nats?: string }, topic: string): Promise<ServerProcess> {
  const source = broker.nats ? ['--nats', broker.nats] : broker.mqtt ? ['--mqtt', broker.mqtt] : broker.amqp ? ['--amqp', broker.amqp] : ['--kafka', broker.kafka!];
  const args = [...serverNodeFlags, 'bin/run-ts.js', 'bench/relay.ts', '--port', '0', '--topic', topic, ...source];
  const child = own(spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] }));
  const out = track('relay', child);
  const stop = stopper(child);
  try {
    const [, port] = await out.waitFor((t) => /\{"listening":(\d+)\}/.exec(t), 30_000);
    const [, inspector] = await out.waitFor((t) => INSPECTOR.exec(t), 5_000);
    return { name: 'relay', pid: child.pid!, url: `http://127.0.0.1:${port}`, lines: out.lines, cpuMicros: () => cpuMicros(child.pid!), rssBytes: () => rssBytes(child.pid!), gc: () => collectGarbage(inspector!), stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

/** The client process (bench/clients.ts) and its request/reply channel. */
export class ClientProcess {
  readonly #child: ChildProcess;
  readonly #pending = new Map<number, { resolve: (reply: Record<string, any>) => void; reject: (error: Error) => void }>();
  #next = 0;

  constructor() {
    this.#child = own(fork('bin/run-ts.js', ['bench/clients.ts'], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] }));
    this.#child.on('message', (reply: { id: number; ok: boolean; error?: string }) => {
      const pending = this.#pending.get(reply.id);
      this.#pending.delete(reply.id);
      if (reply.ok) pending?.resolve(reply);
      else pending?.reject(new Error(reply.error));
    });
    this.#child.once('exit', (code) => {
      for (const { reject } of this.#pending.values()) reject(new Error(`the client process exited (${code})`));
      this.#pending.clear();
    });
  }

  get pid(): number {
    return this.#child.pid!;
  }

  request(command: Record<string, unknown>, timeoutMs = 60_000): Promise<Record<string, any>> {
    const id = this.#next++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(id);
        reject(new Error(`client command ${String(command.cmd)} timed out after ${timeoutMs} ms`));
      }, timeoutMs);
      this.#pending.set(id, {
        resolve: (reply) => (clearTimeout(timer), resolve(reply)),
        reject: (error) => (clearTimeout(timer), reject(error)),
      });
      this.#child.send({ id, ...command });
    });
  }

  async stop(): Promise<void> {
    if (this.#child.exitCode !== null) return;
    const gone = new Promise<void>((resolve) => this.#child.once('exit', () => resolve()));
    this.#child.disconnect();
    const timer = setTimeout(() => this.#child.kill('SIGKILL'), 5000);
    await gone;
    clearTimeout(timer);
  }
}
