/**
 * Commands run the way a user of the published package runs them (npm, npx, the installed
 * `sluice`), outside this checkout: without SLUICE_FROM_SOURCES (the installed package has only
 * dist/) and without the npm_* variables of an enclosing `npm test`, which would steer the nested npm.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';

export interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

/** This process's environment as a user's shell would have it. */
export function userEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(process.env)) {
    if (name === 'SLUICE_FROM_SOURCES' || name.toLowerCase().startsWith('npm_')) continue;
    env[name] = value;
  }
  return { ...env, npm_config_update_notifier: 'false', npm_config_fund: 'false', npm_config_audit: 'false', ...extra };
}

/** Run `command args` in `cwd` to its end (never throws on a non-zero exit). */
export function run(command: string, args: string[], cwd: string, extra: Record<string, string> = {}): Promise<Result> {
  return new Promise((resolve) => {
    execFile(command, args, { cwd, env: userEnv(extra), timeout: 240_000, maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === 'number' ? error.code : -1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

/** `run` that fails the test with the command's output unless it exits 0. */
export async function ok(command: string, args: string[], cwd: string, extra: Record<string, string> = {}): Promise<Result> {
  const result = await run(command, args, cwd, extra);
  if (result.code !== 0) throw new Error(`${command} ${args.join(' ')} (in ${cwd}) exited ${result.code}:\n${result.stdout}\n${result.stderr}`);
  return result;
}

export interface Served {
  url: string;
  adminUrl: string;
  output(): string;
  stop(): Promise<void>;
}

/** `npx sluice serve ARGS` in `cwd` (its own process group), once it names its ports on stderr. */
export function serve(args: string[], cwd: string): Promise<Served> {
  const child: ChildProcess = spawn('npx', ['sluice', 'serve', ...args], { cwd, env: userEnv(), stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  let text = '';
  const exited = new Promise<void>((resolve) => child.once('close', () => resolve()));
  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null && child.pid) process.kill(-child.pid, 'SIGTERM');
    await exited;
  };
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      void stop();
      reject(new Error(`sluice serve did not start within 60 s:\n${text}`));
    }, 60_000);
    const seen = (chunk: Buffer) => {
      text += chunk.toString('utf8');
      const match = /sluice: serving (https?:\/\/\S+) \(admin (https?:\/\/\S+)\)/.exec(text);
      if (!match) return;
      clearTimeout(timer);
      resolve({ url: match[1], adminUrl: match[2], output: () => text, stop });
    };
    child.stdout!.on('data', seen);
    child.stderr!.on('data', seen);
    void exited.then(() => {
      clearTimeout(timer);
      reject(new Error(`sluice serve exited before serving:\n${text}`));
    });
  });
}
