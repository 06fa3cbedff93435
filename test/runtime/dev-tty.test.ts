/**
 * `sluice dev` on a terminal (a pseudo-terminal made by util-linux `script`) prints readable,
 * coloured log lines; `--log-format json` keeps JSON there.
 */
import { spawn } from 'node:child_process';
import { expect, it } from 'vitest';
import { waitFor } from '../support/harness.ts';

/** Runs `sluice dev ARGS` under a pseudo-terminal until a `deployed` line, then stops it; its output. */
async function onTerminal(args: string[]): Promise<string> {
  const command = ['node', 'bin/sluice.js', 'dev', '--port', '0', '--admin-port', '0', ...args].join(' ');
  const env: NodeJS.ProcessEnv = { ...process.env, TERM: 'xterm-256color' };
  delete env.NO_COLOR;
  delete env.FORCE_COLOR;
  // Node's tty.hasColors() answers "2 colours" when CI is set (as CI runners do): a user's terminal does not have it.
  delete env.CI;
  const child = spawn('script', ['-qfec', command, '/dev/null'], { stdio: ['pipe', 'pipe', 'pipe'], detached: true, env });
  let output = '';
  child.stdout.on('data', (chunk) => (output += chunk));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  try {
    await waitFor(() => /deployed|"msg":"deployed"/.test(output) || child.exitCode !== null, 30_000, 'the first deploy');
  } finally {
    process.kill(-child.pid!, 'SIGTERM');
    await exited;
  }
  return output;
}

it('on a terminal: one readable coloured line per entry (time, level, message, fields)', async () => {
  const output = await onTerminal([]);
  expect(output).toMatch(/\u001b\[2m\d\d:\d\d:\d\d\.\d{3}\u001b\[0m \u001b\[32mINFO \u001b\[0m deployed .*\u001b\[2mbundleId=\u001b\[0m[0-9a-f]{64}/);
  expect(output).not.toContain('"level":');
}, 60_000);

it('on a terminal with --log-format json: JSON lines', async () => {
  const output = await onTerminal(['--log-format', 'json']);
  expect(output).toMatch(/^\{"level":30,.*"msg":"deployed"\}\r?$/m);
}, 60_000);
