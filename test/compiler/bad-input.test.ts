/**
 * Bad input on disk never crashes the compiler and is never skipped in silence: links to nothing,
 * link loops, folders named like files, pipes, binary and UTF-16 files, one API folder given as the
 * APIs folder, multi-byte files over the size limit.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { compileFolder, type Diagnostic } from '../../compiler/index.ts';
import { MAX_FILE_BYTES } from '../../compiler/source.ts';

const API = '{"name":"W","state":"started","lifecycle":"published","contextPaths":["/w"],"entrypoints":[{"type":"http-get"}],"endpoints":[{"type":"mock"}]}';
const PLAN = '{"type":"keyless","name":"Open","status":"published"}';

let root: string;
let apis: string;
beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'sluice-bad-input-'));
  apis = join(root, 'apis');
  mkdirSync(join(apis, 'w/plans'), { recursive: true });
  writeFileSync(join(apis, 'w/api.json'), API);
  writeFileSync(join(apis, 'w/plans/open.json'), PLAN);
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

const brief = (diagnostics: Diagnostic[]) => diagnostics.map((d) => `${d.file} ${d.code} ${d.message}`);

describe('bad input on disk', () => {
  it('the tree is clean to begin with', async () => {
    expect((await compileFolder(apis)).diagnostics).toEqual([]);
  });

  it('a symbolic link to nothing is reported, not skipped', async () => {
    symlinkSync(join(root, 'missing.json'), join(apis, 'w/plans/gold.json'));
    expect(brief((await compileFolder(apis)).diagnostics)).toEqual([
      'w/plans/gold.json UNREADABLE_FILE w/plans/gold.json is a symbolic link to nothing (its target is missing)',
    ]);
  });

  it('a symbolic link loop is a diagnostic, not a failure of the whole read', async () => {
    symlinkSync('b.json', join(apis, 'w/plans/a.json'));
    symlinkSync('a.json', join(apis, 'w/plans/b.json'));
    const { diagnostics } = await compileFolder(apis);
    expect(diagnostics.map((d) => [d.file, d.code])).toEqual([
      ['w/plans/a.json', 'UNREADABLE_FILE'],
      ['w/plans/b.json', 'UNREADABLE_FILE'],
    ]);
    expect(diagnostics[0].message).toMatch(/symbolic link loop/);
  });

  it('a folder named api.json or plans/x.json is reported as a folder', async () => {
    rmSync(join(apis, 'w/api.json'));
    mkdirSync(join(apis, 'w/api.json'));
    mkdirSync(join(apis, 'w/plans/silver.json'));
    expect(brief((await compileFolder(apis)).diagnostics)).toEqual([
      'w/api.json UNREADABLE_FILE w/api.json is a folder, not a file',
      'w/plans/silver.json UNREADABLE_FILE w/plans/silver.json is a folder, not a file',
    ]);
  });

  it('a named pipe is reported and never opened (opening it would block)', async () => {
    execFileSync('mkfifo', [join(apis, 'w/plans/pipe.json')]);
    expect(brief((await compileFolder(apis)).diagnostics)).toEqual([
      'w/plans/pipe.json UNREADABLE_FILE w/plans/pipe.json is not a regular file (a pipe, socket or device)',
    ]);
  });

  it('binary and UTF-16 files are "not UTF-8 text", not a syntax error at a made-up position', async () => {
    writeFileSync(join(apis, 'w/plans/gold.json'), Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0xff, 0x00]));
    writeFileSync(join(apis, 'w/plans/silver.json'), Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(PLAN, 'utf16le')]));
    const messages = brief((await compileFolder(apis)).diagnostics);
    expect(messages).toEqual([
      'w/plans/gold.json UNREADABLE_FILE w/plans/gold.json is not UTF-8 text (a binary file?)',
      'w/plans/silver.json UNREADABLE_FILE w/plans/silver.json is not UTF-8 text (it is UTF-16: save it as UTF-8)',
    ]);
  });

  it('a link to a folder is listed, never followed (no loop through it)', async () => {
    symlinkSync('..', join(apis, 'w/loop'));
    const { diagnostics } = await compileFolder(apis);
    expect(brief(diagnostics)).toEqual([expect.stringMatching(/^w\/loop UNKNOWN_FILE unknown file w\/loop \(it is a symbolic link to a folder; links to folders are not followed\)/)]);
  });

  it('a file over 1 MiB of multi-byte characters is too large, not truncated JSON', async () => {
    const description = 'é'.repeat(MAX_FILE_BYTES / 2 + 10);
    writeFileSync(join(apis, 'w/api.json'), API.replace('"name":"W"', `"name":"W","description":"${description}"`));
    expect((await compileFolder(apis)).diagnostics.map((d) => d.code)).toEqual(['FILE_TOO_LARGE']);
  });

  it('one API folder given as the APIs folder gets one message that says so', async () => {
    const { diagnostics } = await compileFolder(join(apis, 'w'));
    expect(diagnostics).toHaveLength(1);
    expect(diagnostics[0]).toMatchObject({ file: 'api.json', code: 'UNKNOWN_FILE' });
    expect(diagnostics[0].message).toMatch(/this is one API folder; give the folder that holds the API folders/);
  });

  it('a missing or non-folder APIS_DIR rejects with a message naming it', async () => {
    await expect(compileFolder(join(root, 'nope'))).rejects.toThrow(`there is no folder ${join(root, 'nope')}`);
    await expect(compileFolder(join(apis, 'w/api.json'))).rejects.toThrow('is not a folder');
  });
});
