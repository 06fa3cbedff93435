/**
 * `sluice serve --bundle FILE` as a child process for the webhook process tests: started on
 * free ports (the admin URL is read from its start line), stopped with SIGTERM, or killed.
 * Every process started here is tracked, so `stopAll` leaves none behind.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { resolve } from 'node:path';

const ROOT = resolve(import.meta.dirname, '../..');
const running = new Set<RuntimeProcess>();

export interface RuntimeProcess {
  readonly child: ChildProcess;
  readonly adminUrl: string;
  readonly exited: Promise<void>;
  output(): string;
}

export async function startRuntime(bundleFile: string): Promise<RuntimeProcess> {
  const child = spawn(process.execPath, ['bin/sluice.js', 'serve', '--bundle', bundleFile, '--port', '0', '--admin-port', '0', '--drain-delay', '0', '--log-level', 'warn'], {
    cwd: ROOT,
    env: { ...process.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const append = (chunk: Buffer) => (output = (output + chunk.toString()).slice(-64 * 1024));
  child.stdout!.on('data', append);
  child.stderr!.on('data', append);
  const exited = new Promise<void>((done) => child.once('exit', () => done()));
  const adminUrl = await new Promise<string>((ready, fail) => {
    const timer = setTimeout(() => fail(new Error(`sluice serve did not start within 30 s:\n${output}`)), 30_000);
    const check = () => {
      const match = /serving http:\/\/\S+ \(admin (http:\/\/\S+)\)/.exec(output);
      if (!match) return;
      clearTimeout(timer);
      child.stderr!.off('data', check);
      ready(match[1]!);
    };
    child.stderr!.on('data', check);
    void exited.then(() => fail(new Error(`sluice serve exited (${child.exitCode ?? child.signalCode}):\n${output}`)));
  });
  const runtime: RuntimeProcess = { child, adminUrl, exited, output: () => output };
  running.add(runtime);
  void exited.then(() => running.delete(runtime));
  return runtime;
}

/** SIGTERM (graceful) or SIGKILL; resolves once the process exited. */
export async function stopRuntime(runtime: RuntimeProcess, signal: 'SIGTERM' | 'SIGKILL' = 'SIGTERM'): Promise<void> {
  if (runtime.child.exitCode === null && runtime.child.signalCode === null) runtime.child.kill(signal);
  const timer = setTimeout(() => runtime.child.kill('SIGKILL'), 15_000);
  await runtime.exited;
  clearTimeout(timer);
}

export async function stopAll(): Promise<void> {
  await Promise.all([...running].map((runtime) => stopRuntime(runtime)));
}

export interface SubscriptionRow {
  subscription: string;
  state: string;
  delivered: number;
  consumer: { connected: boolean; assignment?: string } | null;
}

export async function subscriptionOf(runtime: RuntimeProcess, name: string): Promise<SubscriptionRow | undefined> {
  try {
    const res = await fetch(`${runtime.adminUrl}/subscriptions`);
    return ((await res.json()) as { subscriptions: SubscriptionRow[] }).subscriptions.find((row) => row.subscription === name);
  } catch {
    return undefined;
  }
}

/** Partitions this runtime's consumer holds now (from its /subscriptions assignment, e.g. `topic:0,2`). */
export function partitionsOf(row: SubscriptionRow | undefined): number[] {
  const assignment = row?.consumer?.connected ? row.consumer.assignment : undefined;
  if (!assignment) return [];
  return assignment.split(' ').flatMap((part) => (part.split(':')[1] ?? '').split(',').filter(Boolean).map(Number));
}
