/**
 * Run the real `sluice` command (bin/sluice.js) as a child process, and start `sluice serve --store`
 * as a long-running child whose URLs are read from its start-up line.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';

const BIN = path.resolve(import.meta.dirname, '../../bin/sluice.js');

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** `sluice ...args`; resolves when it exits (fails after `timeoutMs`). */
export function sluice(args: string[], options: { cwd?: string; timeoutMs?: number; env?: Record<string, string> } = {}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { cwd: options.cwd, env: { ...process.env, LOG_LEVEL: 'warn', ...options.env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => (stdout += chunk));
    child.stderr.on('data', (chunk) => (stderr += chunk));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`sluice ${args.join(' ')} did not finish in ${options.timeoutMs ?? 30_000} ms\n${stdout}\n${stderr}`));
    }, options.timeoutMs ?? 30_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code: code ?? 1, stdout, stderr });
    });
  });
}

export interface Served {
  child: ChildProcess;
  url: string;
  adminUrl: string;
  /** What it logged so far (stdout JSON lines and stderr). */
  output(): string;
  /** GET /status of the admin port. */
  status(): Promise<{ bundleId: string | null; release: { tag: string; commit: string; deployment: number; kind: string } | null }>;
  /** SIGTERM and wait for the exit code. */
  stop(): Promise<number | null>;
}

/** `sluice serve --store STORE --port 0 --admin-port 0 [...extra]`; resolves once it says where it listens. */
export function serveStore(store: string, timeoutMs = 20_000, extra: string[] = [], env: Record<string, string> = {}): Promise<Served> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, 'serve', '--store', store, '--port', '0', '--admin-port', '0', '--drain-delay', '0', '--log-level', 'warn', ...extra], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
    let stderr = '';
    let stdout = '';
    child.stdout!.on('data', (chunk) => (stdout += chunk));
    const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`sluice serve did not start in ${timeoutMs} ms:\n${stderr}`));
    }, timeoutMs);
    child.stderr!.on('data', (chunk) => {
      stderr += chunk;
      const m = /serving (http:\/\/\S+) \(admin (http:\/\/\S+)\)/.exec(stderr);
      if (!m) return;
      clearTimeout(timer);
      const [, url, adminUrl] = m;
      resolve({
        child,
        url,
        adminUrl,
        output: () => stdout + stderr,
        status: async () => (await fetch(`${adminUrl}/status`)).json() as never,
        stop: async () => {
          child.kill('SIGTERM');
          return exited;
        },
      });
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`sluice serve exited with ${code}:\n${stderr}`));
    });
  });
}
