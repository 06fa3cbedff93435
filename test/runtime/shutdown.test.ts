import { afterAll, describe, expect, it } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import net from 'node:net';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeBundle } from '../support/bundles.ts';
import { connect, waitFor, within } from '../support/harness.ts';

const dir = mkdtempSync(join(tmpdir(), 'sluice-shutdown-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Starts `sluice serve` as a real process and returns its gateway URL once it serves. */
async function serve(args: string[]): Promise<{ child: ChildProcess; url: string; admin: string; output: () => string }> {
  const child = spawn(process.execPath, ['bin/sluice.js', 'serve', ...args, '--port', '0', '--admin-port', '0', '--drain-delay', '0'], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, LOG_LEVEL: 'info' } });
  let output = '';
  child.stdout!.on('data', (chunk) => (output += chunk));
  child.stderr!.on('data', (chunk) => (output += chunk));
  await waitFor(() => /sluice: serving (\S+) \(admin (\S+)\)/.test(output) || child.exitCode !== null, 20_000, 'sluice serve to start');
  const match = /sluice: serving (\S+) \(admin (\S+)\)/.exec(output);
  if (!match) throw new Error(`sluice serve did not start:\n${output}`);
  return { child, url: match[1]!, admin: match[2]!, output: () => output };
}

describe('shutdown', () => {
  it('on SIGTERM: stops accepting, closes WebSockets with 1013, finishes long-polls, exits 0 within 10 s', async () => {
    const file = join(dir, 'bundle.json');
    writeFileSync(file, JSON.stringify(makeBundle({ a: { definition: { endpoints: [{ type: 'mock', messageInterval: 50 }] } } })));
    const { child, url, admin, output } = await serve(['--bundle', file]);
    await waitFor(() => output().includes('"event":"deploy"'), 10_000, 'the first deploy');
    expect((await fetch(`${admin}/readyz`)).status).toBe(200);
    const client = connect(`${url.replace('http', 'ws')}/a`);
    await within(client.opened, 5000, 'the handshake');
    await waitFor(() => client.messages.length > 0, 5000, 'a first message');
    const poll = fetch(`${url}/a?limit=500`, { headers: { Accept: 'application/json' } });
    await new Promise((resolve) => setTimeout(resolve, 200));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    const started = Date.now();
    child.kill('SIGTERM');
    expect((await within(client.closed, 5000, 'the WebSocket close')).code).toBe(1013);
    const res = await within(poll, 5000, 'the long-poll');
    expect(res.status).toBe(200);
    expect((await res.json()).items.length).toBeGreaterThan(0);
    expect(await within(exited, 10_000, 'the process to exit')).toBe(0);
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(output()).toContain('"event":"request"');
    await expect(fetch(`${url}/a`)).rejects.toThrow();
  }, 40_000);

  it('refuses bad usage with exit code 2', async () => {
    const child = spawn(process.execPath, ['bin/sluice.js', 'serve', '--port', '0'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let err = '';
    child.stderr.on('data', (chunk) => (err += chunk));
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    expect(code).toBe(2);
    expect(err).toContain('give exactly one of --bundle FILE, --bundles DIR, --store DIR|URL');
  }, 20_000);
});

/** Runs `sluice ARGS` to its exit: the code and what it wrote to stderr. */
async function sluice(args: string[]): Promise<{ code: number | null; err: string }> {
  const child = spawn(process.execPath, ['bin/sluice.js', ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  child.stderr.on('data', (chunk) => (err += chunk));
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  try {
    return { code: await within(exited, 15_000, `sluice ${args[0]} to exit`), err };
  } finally {
    child.kill('SIGKILL');
  }
}

describe('serve command line', () => {
  it('names the busy port and the flag that changes it (exit 1)', async () => {
    const busy = net.createServer();
    await new Promise<void>((resolve) => busy.listen(0, '127.0.0.1', resolve));
    const port = String((busy.address() as net.AddressInfo).port);
    const file = join(dir, 'busy.json');
    writeFileSync(file, JSON.stringify(makeBundle({ a: {} })));
    try {
      const gateway = await sluice(['serve', '--bundle', file, '--port', port, '--admin-port', '0']);
      expect(gateway.code).toBe(1);
      expect(gateway.err).toContain(`127.0.0.1:${port} is in use`);
      expect(gateway.err).toContain('--port');
      const admin = await sluice(['serve', '--bundle', file, '--port', '0', '--admin-port', port]);
      expect(admin.code).toBe(1);
      expect(admin.err).toContain(`127.0.0.1:${port} is in use`);
      expect(admin.err).toContain('--admin-port');
    } finally {
      busy.close();
    }
  }, 40_000);

  it('refuses a --bundles folder that does not exist (exit 2) instead of serving nothing forever', async () => {
    const { code, err } = await sluice(['serve', '--bundles', join(dir, 'no-such-folder'), '--port', '0', '--admin-port', '0']);
    expect(code).toBe(2);
    expect(err).toContain('is not a folder');
  }, 20_000);

  it('refuses a --bundle file that does not exist (exit 2), naming it and how to make one', async () => {
    const missing = await sluice(['serve', '--bundle', join(dir, 'no-such-bundle.json'), '--port', '0', '--admin-port', '0']);
    expect(missing.code).toBe(2);
    expect(missing.err).toContain(`--bundle ${join(dir, 'no-such-bundle.json')} does not exist`);
    expect(missing.err).toContain('sluice compile');
    const folder = await sluice(['serve', '--bundle', dir, '--port', '0', '--admin-port', '0']);
    expect(folder.code).toBe(2);
    expect(folder.err).toContain('is not a file (a folder of bundles is --bundles DIR)');
  }, 20_000);

  it('refuses a --store folder that is not a store (exit 2): missing, a file, or a folder without current or bundles/', async () => {
    const plain = join(dir, 'plain-folder');
    mkdirSync(plain, { recursive: true });
    writeFileSync(join(plain, 'notes.txt'), 'not a store');
    const notStore = await sluice(['serve', '--store', plain, '--port', '0', '--admin-port', '0']);
    expect(notStore.code).toBe(2);
    expect(notStore.err).toContain(`--store ${plain} is not a store (no current pointer, no bundles/ folder)`);
    const missing = await sluice(['serve', '--store', join(dir, 'no-such-store'), '--port', '0', '--admin-port', '0']);
    expect(missing.code).toBe(2);
    expect(missing.err).toContain('does not exist');
    const file = await sluice(['serve', '--store', join(plain, 'notes.txt'), '--port', '0', '--admin-port', '0']);
    expect(file.code).toBe(2);
    expect(file.err).toContain('is not a folder');
    const token = await sluice(['serve', '--store', plain, '--store-token-file', join(plain, 'notes.txt'), '--port', '0', '--admin-port', '0']);
    expect(token.code).toBe(2);
    expect(token.err).toContain('--store-token-file goes with --store https://');
  }, 30_000);

  it('refuses a --store URL with user:password@ (exit 2) without printing the password, instead of logging it on every poll', async () => {
    const { code, err } = await sluice(['serve', '--store', 'http://bob:hunter2@127.0.0.1:1/store', '--port', '0', '--admin-port', '0']);
    expect(code).toBe(2);
    expect(err).toContain('must not carry credentials');
    expect(err).not.toContain('hunter2');
  }, 20_000);
});
