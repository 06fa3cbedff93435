/**
 * Configuration as platforms give it: every serve/dev flag also reads SLUICE_<FLAG> (the flag
 * wins, a bad value names its variable, a misspelt variable is warned about), secrets come from
 * files or the environment, and the pretty log formatter.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { envName, flagsFromEnv, parseArgs, UsageError } from '../../cli/args.ts';
import { parseDrainDelay, parseServerFlags, SERVER_FLAGS } from '../../cli/options.ts';
import { defaultLogFormat, prettyLine } from '../../cli/log-format.ts';

const dir = mkdtempSync(join(tmpdir(), 'sluice-config-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function parse(args: string[], env: NodeJS.ProcessEnv, valued: string[] = []) {
  const warnings: string[] = [];
  const result = parseServerFlags(args, valued, { env, warn: (message) => warnings.push(message) });
  return { ...result, warnings };
}

describe('SLUICE_<FLAG> variables', () => {
  it('name every flag: --admin-port ← SLUICE_ADMIN_PORT', () => {
    expect(envName('--admin-port')).toBe('SLUICE_ADMIN_PORT');
    expect(envName('--rate-limit-error-strategy')).toBe('SLUICE_RATE_LIMIT_ERROR_STRATEGY');
    expect(SERVER_FLAGS.map(envName)).toContain('SLUICE_DRAIN_DELAY');
  });

  it('fill the flags argv does not give; the flag wins', () => {
    const env = { SLUICE_ADMIN_PORT: '19001', SLUICE_HOST: '0.0.0.0', SLUICE_PORT: '9001', SLUICE_DRAIN_DELAY: '2.5', SLUICE_AUTH_FAILURE_LIMIT: '0' };
    const { server, warnings } = parse(['--port', '9100'], env);
    expect(server).toMatchObject({ port: 9100, adminPort: 19001, host: '0.0.0.0', adminHost: '127.0.0.1', drainDelayMs: 2500, authFailureLimit: null });
    expect(warnings).toEqual([]);
    // A command's own flags too (serve's --store).
    expect(parse([], { SLUICE_STORE: 'https://example.test/store' }, ['--store']).parsed.flags.get('--store')).toBe('https://example.test/store');
  });

  it('a bad value says which variable held it; an empty variable counts as unset', () => {
    expect(() => parse([], { SLUICE_ADMIN_PORT: 'eighty' })).toThrow(/--admin-port must be a port number \(got "eighty"\) \(from SLUICE_ADMIN_PORT\)/);
    expect(() => parse([], { SLUICE_LOG_FORMAT: 'xml' })).toThrow(/--log-format must be one of pretty, json.*\(from SLUICE_LOG_FORMAT\)/);
    expect(parse([], { SLUICE_ADMIN_PORT: '' }).server.adminPort).toBe(18082);
  });

  it('warns about SLUICE_* variables that are no option, suggesting the near one; known others are quiet', () => {
    const { warnings } = parse([], { SLUICE_ADMIN_PROT: '1', SLUICE_COLOUR_SCHEME: 'x', SLUICE_DEBUG: '1', SLUICE_STORE_TOKEN: 't', SLUICE_SIGN_KEY: 'k' });
    expect(warnings).toEqual([
      'SLUICE_ADMIN_PROT is not an option of sluice serve (did you mean SLUICE_ADMIN_PORT?); it is ignored',
      'SLUICE_COLOUR_SCHEME is not an option of sluice serve; it is ignored',
    ]);
  });

  it('switches take true/false/1/0', () => {
    const read = (value: string) => {
      const parsed = parseArgs([], [], ['--watch']);
      flagsFromEnv(parsed, [], ['--watch'], { SLUICE_WATCH: value });
      return parsed.flags.get('--watch');
    };
    expect(read('true')).toBe('true');
    expect(read('1')).toBe('true');
    expect(read('false')).toBeUndefined();
    expect(read('0')).toBeUndefined();
    expect(() => read('maybe')).toThrow(/SLUICE_WATCH must be true or false/);
  });
});

describe('secrets from files or the environment', () => {
  it('--redis-password-file / SLUICE_REDIS_PASSWORD put the password into the Redis URL; a password in argv is warned about', () => {
    const file = join(dir, 'redis-password');
    writeFileSync(file, 's3cret/with:chars\n');
    expect(parse(['--redis', 'redis://127.0.0.1:6379', '--redis-password-file', file], {}).server.rateLimits!.redisUrl).toBe('redis://:s3cret%2Fwith%3Achars@127.0.0.1:6379');
    expect(parse([], { SLUICE_REDIS: 'redis://127.0.0.1:6379', SLUICE_REDIS_PASSWORD: 'pw' }).server.rateLimits!.redisUrl).toBe('redis://:pw@127.0.0.1:6379');
    expect(() => parse([], { SLUICE_REDIS_PASSWORD: 'pw' })).toThrow(/SLUICE_REDIS_PASSWORD needs --redis URL/);
    expect(() => parse(['--redis', 'redis://127.0.0.1', '--redis-password-file', join(dir, 'missing')], {})).toThrow(/--redis-password-file .*missing: cannot read it \(ENOENT\)/);
    expect(parse(['--redis', 'redis://u:pw@127.0.0.1:6379'], {}).warnings[0]).toMatch(/--redis carries a password on the command line.*SLUICE_REDIS/);
    expect(parse([], { SLUICE_REDIS: 'redis://u:pw@127.0.0.1:6379' }).warnings).toEqual([]);
  });

  it('an empty secret file is refused', () => {
    const file = join(dir, 'empty');
    writeFileSync(file, '\n');
    expect(() => parse(['--redis', 'redis://127.0.0.1', '--redis-password-file', file], {})).toThrow(UsageError);
  });

  it('the TLS key file can come from SLUICE_TLS_KEY like every flag', () => {
    expect(() => parse(['--tls-cert', join(dir, 'cert.pem')], {})).toThrow(/--tls-cert and --tls-key go together/);
    expect(() => parse(['--tls-cert', join(dir, 'cert.pem')], { SLUICE_TLS_KEY: join(dir, 'key.pem') })).toThrow(/cannot read the TLS files/);
  });
});

describe('--drain-delay', () => {
  it('seconds (default 5 for serve, 0 for dev), with s or ms; 0 is off', () => {
    expect(parseDrainDelay(undefined, 5000)).toBe(5000);
    expect(parseDrainDelay('0', 5000)).toBe(0);
    expect(parseDrainDelay('10', 5000)).toBe(10_000);
    expect(parseDrainDelay('1.5s', 5000)).toBe(1500);
    expect(parseDrainDelay('250ms', 5000)).toBe(250);
    expect(() => parseDrainDelay('-1', 5000)).toThrow(/--drain-delay must be seconds/);
    expect(() => parseDrainDelay('1h', 5000)).toThrow(UsageError);
    expect(parseServerFlags([], [], { env: {}, warn: () => {} }).server.drainDelayMs).toBe(5000);
    expect(parseServerFlags([], [], { command: 'dev', env: {}, warn: () => {} }).server.drainDelayMs).toBe(0);
  });
});

describe('pretty log lines', () => {
  const line = JSON.stringify({ level: 40, time: '2026-01-02T03:04:05.678Z', service: 'sluice', pid: 1, event: 'release', tag: 'v1.2', err: { message: 'boom', stack: 'x' }, note: 'two words', n: 3, msg: 'new release in the store' });
  const clock = (() => {
    const d = new Date('2026-01-02T03:04:05.678Z');
    return `${String(d.getHours()).padStart(2, '0')}:${String(d.getMinutes()).padStart(2, '0')}:05.678`;
  })();

  it('time, level, message, then the entry’s own fields', () => {
    expect(prettyLine(`${line}\n`, false)).toBe(`${clock} WARN  new release in the store event=release tag=v1.2 err=boom note="two words" n=3\n`);
  });

  it('colours level and field names on a terminal', () => {
    const coloured = prettyLine(line, true);
    expect(coloured).toContain('\u001b[33mWARN \u001b[0m');
    expect(coloured).toContain('\u001b[2mtag=\u001b[0mv1.2');
  });

  it('passes a line that is not JSON through, cuts long values', () => {
    expect(prettyLine('not json\n', false)).toBe('not json\n');
    expect(prettyLine(JSON.stringify({ level: 30, msg: 'm', big: 'x'.repeat(1000) }), false)).toMatch(/big=x{300}…\n$/);
  });

  it('is the default for sluice dev on a terminal only', () => {
    expect(defaultLogFormat('dev', true)).toBe('pretty');
    expect(defaultLogFormat('dev', false)).toBe('json');
    expect(defaultLogFormat('serve', true)).toBe('json');
  });
});
