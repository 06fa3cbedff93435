/**
 * A newcomer's first run: `npm start` (`sluice dev` on apis/) logs no warning or error and is
 * ready (the Kafka, MQTT and JWT examples live in docs/examples/, validated by the suite).
 */
import { spawn } from 'node:child_process';
import { expect, it } from 'vitest';
import { waitFor, within } from '../support/harness.ts';

it('sluice dev apis: no warning or error logged, /readyz 200, the quickstart API answers, exits 0 on SIGTERM', async () => {
  const child = spawn(process.execPath, ['bin/sluice.js', 'dev', '--port', '0', '--admin-port', '0'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk) => (stdout += chunk));
  child.stderr.on('data', (chunk) => (stderr += chunk));
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  try {
    await waitFor(() => /sluice: serving \S+ \(admin \S+\)/.test(stderr) || child.exitCode !== null, 30_000, `sluice dev to start:\n${stderr}`);
    const [, url, admin] = /sluice: serving (\S+) \(admin (\S+)\)/.exec(stderr)!;
    const ready = await fetch(`${admin}/readyz`);
    expect(ready.status).toBe(200);
    expect((await fetch(`${url}/qs-message-api?limit=1`, { headers: { accept: 'application/json' } })).status).toBe(200);
    child.kill('SIGTERM');
    expect(await within(exited, 15_000, 'the exit')).toBe(0);
  } finally {
    child.kill('SIGKILL');
  }
  const lines = stdout.trim().split('\n').map((line) => JSON.parse(line) as { level: number; msg: string });
  expect(lines.filter((line) => line.level >= 40)).toEqual([]);
  expect(lines.map((line) => line.msg)).toContain('deployed');
  expect(stderr.replace(/^sluice: serving .*\n/m, '')).toBe('');
}, 60_000);
