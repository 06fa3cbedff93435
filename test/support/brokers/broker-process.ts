/**
 * The lifecycle the test brokers share: one child process at a time, its output kept (bounded)
 * for error messages, readiness awaited against an early exit, killed with the test process.
 * `start()` and `stop()` are idempotent; a failed start stops the child and throws with the log tail.
 * `startBrokerProcess` starts one and adds `close()` (stop, then remove its folder);
 * `pollReady` is the bounded readiness loop each broker's `ready` runs.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { rmSync } from 'node:fs';

export interface BrokerProcessOptions {
  /** For messages: "Kafka", "Mosquitto". */
  readonly name: string;
  readonly command: string;
  readonly args: readonly string[];
  readonly cwd: string;
  /** The child's environment (default: this process's). */
  readonly env?: NodeJS.ProcessEnv;
  /** Where clients connect, for messages. */
  readonly address: string;
  /** Resolves once the broker answers; bounded by the caller. */
  readonly ready: () => Promise<void>;
  /** Hint added when the command itself cannot run. */
  readonly installHint?: string;
  readonly logLimit?: number;
}

export interface BrokerProcess {
  start(): Promise<void>;
  stop(): Promise<void>;
  log(): string;
}

export function brokerProcess(options: BrokerProcessOptions): BrokerProcess {
  const logLimit = options.logLimit ?? 64 * 1024;
  let child: ChildProcess | undefined;
  let output = '';
  const append = (chunk: Buffer) => {
    output = (output + chunk.toString('utf8')).slice(-logLimit);
  };
  const killOnExit = () => child?.kill('SIGKILL');

  const broker: BrokerProcess = {
    log: () => output,
    async start() {
      if (child) return;
      const started = spawn(options.command, [...options.args], { cwd: options.cwd, ...(options.env ? { env: options.env } : {}), stdio: ['ignore', 'pipe', 'pipe'] });
      child = started;
      process.once('exit', killOnExit);
      started.stdout!.on('data', append);
      started.stderr!.on('data', append);
      const exited = new Promise<never>((_, reject) => {
        started.once('error', (e) =>
          reject(new Error(`cannot run ${options.command}: ${e.message}${options.installHint ? ` (${options.installHint})` : ''}`)),
        );
        started.once('exit', (code, signal) => {
          if (child === started) child = undefined;
          reject(new Error(`${options.name} exited during start (code ${code}, signal ${signal})`));
        });
      });
      exited.catch(() => {});
      try {
        await Promise.race([options.ready(), exited]);
      } catch (error) {
        await broker.stop();
        throw new Error(
          `${options.name} did not start on ${options.address}: ${(error as Error).message}\n--- broker log ---\n${output.slice(-8000)}`,
        );
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
  };
  return broker;
}

export interface RunningBroker extends BrokerProcess {
  /** Stops the broker and removes its folder (`cwd`) unless `keepDir`. Idempotent. */
  close(): Promise<void>;
}

/** `brokerProcess(options)`, started (throws with why and the log tail when it does not come up). */
export async function startBrokerProcess(options: BrokerProcessOptions & { readonly keepDir?: boolean }): Promise<RunningBroker> {
  const process_ = brokerProcess(options);
  const broker: RunningBroker = {
    ...process_,
    async close() {
      await process_.stop();
      if (!options.keepDir) rmSync(options.cwd, { recursive: true, force: true });
    },
  };
  await broker.start();
  return broker;
}

/** Runs `attempt` every `pauseMs` until it resolves; rejects after `ms` with the last failure. */
export async function pollReady(attempt: () => Promise<void>, ms: number, pauseMs = 100): Promise<void> {
  const deadline = Date.now() + ms;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      await attempt();
      return;
    } catch (error) {
      last = error;
      await new Promise((r) => setTimeout(r, pauseMs));
    }
  }
  throw new Error(`not ready after ${ms} ms: ${(last as Error)?.message ?? last}`);
}
