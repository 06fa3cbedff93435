/**
 * `sluice serve --bundle FILE` as a child process for log tests: collects its stdout JSON lines
 * (and raw stdout + stderr text, to search for leaks), learns its ports from the `sluice: serving`
 * line on stderr (written at every log level) and waits until /readyz answers 200. Started with
 * `--drain-delay 0` unless the test gives one, so stopping it does not wait.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export type LogLine = Record<string, unknown> & { msg?: string; level?: number; requestId?: string };

export interface ServeProcess {
  readonly pid: number;
  readonly url: string;
  readonly adminUrl: string;
  readonly lines: LogLine[];
  /** Everything the process wrote to stdout and stderr so far. */
  output(): string;
  /** Resolves with the first line (seen or to come) matching, or fails after `ms`. */
  line(match: (line: LogLine) => boolean, ms?: number, what?: string): Promise<LogLine>;
  /** SIGTERM, resolves with the exit code once every output was read. */
  stop(): Promise<number | null>;
  /** Sends SIGTERM only; `stop()` then waits for the exit. */
  signal(): void;
}

export async function serve(bundle: unknown, args: string[] = [], env: Record<string, string> = {}): Promise<ServeProcess> {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-observability-'));
  const file = join(dir, 'bundle.json');
  writeFileSync(file, JSON.stringify(bundle));
  const child: ChildProcess = spawn(process.execPath, ['bin/sluice.js', 'serve', '--bundle', file, '--port', '0', '--admin-port', '0', ...(args.includes('--drain-delay') ? [] : ['--drain-delay', '0']), ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, ...env },
  });
  const lines: LogLine[] = [];
  let text = '';
  let partial = '';
  const waiters = new Set<() => void>();
  child.stdout!.on('data', (chunk: Buffer) => {
    text += chunk.toString('utf8');
    partial += chunk.toString('utf8');
    const parts = partial.split('\n');
    partial = parts.pop()!;
    for (const part of parts) {
      if (part.trim() === '') continue;
      try {
        lines.push(JSON.parse(part) as LogLine);
      } catch {
        lines.push({ msg: part, unparsed: true });
      }
    }
    for (const wake of [...waiters]) wake();
  });
  child.stderr!.on('data', (chunk: Buffer) => {
    text += chunk.toString('utf8');
    for (const wake of [...waiters]) wake();
  });
  const exited = new Promise<number | null>((resolve) => child.once('close', (code) => {
    rmSync(dir, { recursive: true, force: true });
    for (const wake of [...waiters]) wake();
    resolve(code);
  }));

  const line = (match: (line: LogLine) => boolean, ms = 10_000, what = 'a log line'): Promise<LogLine> =>
    new Promise((resolve, reject) => {
      const check = () => {
        const found = lines.find(match);
        if (found) {
          done();
          resolve(found);
        } else if (child.exitCode !== null) {
          done();
          reject(new Error(`sluice serve exited before ${what}:\n${text.slice(-3000)}`));
        }
      };
      const timer = setTimeout(() => {
        done();
        reject(new Error(`timed out after ${ms} ms waiting for ${what}:\n${text.slice(-3000)}`));
      }, ms);
      const done = () => {
        clearTimeout(timer);
        waiters.delete(check);
      };
      waiters.add(check);
      check();
    });

  let signalled = false;
  let urls: RegExpExecArray;
  try {
    urls = await new Promise<RegExpExecArray>((resolve, reject) => {
      const check = () => {
        const found = /sluice: serving (\S+) \(admin (\S+)\)/.exec(text);
        if (found) done(() => resolve(found));
        else if (child.exitCode !== null) done(() => reject(new Error(`sluice serve exited:\n${text.slice(-3000)}`)));
      };
      const timer = setTimeout(() => done(() => reject(new Error(`sluice serve did not start within 20 s:\n${text.slice(-3000)}`))), 20_000);
      const done = (then: () => void) => {
        clearTimeout(timer);
        waiters.delete(check);
        then();
      };
      waiters.add(check);
      check();
    });
    const deadline = Date.now() + 10_000;
    while ((await fetch(`${urls[2]}/readyz`).then((r) => r.status, () => 0)) !== 200) {
      if (Date.now() > deadline) throw new Error(`sluice serve not ready within 10 s:\n${text.slice(-3000)}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  } catch (error) {
    child.kill('SIGKILL');
    throw error;
  }
  return {
    pid: child.pid!,
    url: urls[1]!,
    adminUrl: urls[2]!,
    lines,
    output: () => text,
    line,
    stop() {
      if (child.exitCode === null && !signalled) child.kill('SIGTERM');
      return exited;
    },
    signal() {
      signalled = true;
      child.kill('SIGTERM');
    },
  };
}
