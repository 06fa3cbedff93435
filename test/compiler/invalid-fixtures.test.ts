/**
 * Every folder under test/fixtures/invalid/<what-is-wrong>/ is a complete APIs tree (apis/) with
 * the diagnostics it must produce beside it (expected.json: [{code, file, line, column?}]) and,
 * optionally, the compile options (options.json, e.g. {"profile": "production"}).
 * The compiler must report exactly those diagnostics: no more, no fewer.
 */
import { describe, expect, it } from 'vitest';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CODES, compileFolder } from '../../compiler/index.ts';

const root = fileURLToPath(new URL('../fixtures/invalid/', import.meta.url));
const fixtures = readdirSync(root).filter((name) => existsSync(join(root, name, 'expected.json'))).sort();

interface Expected {
  code: string;
  file: string;
  line: number;
  column?: number;
}

describe('invalid fixtures', () => {
  it('has at least 25 fixtures, each named for what is wrong', () => {
    expect(fixtures.length).toBeGreaterThanOrEqual(25);
    for (const name of fixtures) expect(name).toMatch(/^[a-z0-9]+(-[a-z0-9]+)*$/);
  });

  it.each(fixtures)('%s', async (name) => {
    const expected = JSON.parse(readFileSync(join(root, name, 'expected.json'), 'utf8')) as Expected[];
    const optionsFile = join(root, name, 'options.json');
    const options = existsSync(optionsFile) ? JSON.parse(readFileSync(optionsFile, 'utf8')) : {};
    const { bundle, diagnostics } = await compileFolder(join(root, name, 'apis'), options);

    expect(bundle).toBeUndefined();
    const actual = diagnostics.map((d) => {
      const wanted = expected.find((e) => e.code === d.code && e.file === d.file && e.line === d.line) ?? expected.find((e) => e.code === d.code && e.file === d.file);
      return { code: d.code, file: d.file, line: d.line, ...(wanted?.column !== undefined ? { column: d.column } : {}) };
    });
    const sortKey = (d: Expected) => `${d.file}:${String(d.line).padStart(5, '0')}:${d.code}`;
    expect(actual.sort((a, b) => sortKey(a).localeCompare(sortKey(b))), JSON.stringify(diagnostics, null, 2)).toEqual(
      [...expected].sort((a, b) => sortKey(a).localeCompare(sortKey(b))),
    );
    for (const d of diagnostics) {
      expect(d.message.length, `${d.code} has a message`).toBeGreaterThan(10);
      if (!d.code.startsWith('POLICY_')) expect(CODES, `${d.code} is listed in compiler/codes.ts`).toHaveProperty(d.code);
    }
  });
});
