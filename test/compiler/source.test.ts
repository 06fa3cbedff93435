/** Read stage: real positions for syntax errors and diagnostics, BOM and CRLF, layout rules. */
import { describe, expect, it } from 'vitest';
import { compileTree, formatDiagnostics, normaliseContextPath } from '../../compiler/index.ts';
import { parseJson } from '../../compiler/source.ts';

const source = { kind: 'folder', compilerVersion: 'test' } as const;
const API = '{"name":"X","contextPaths":["/x"],"entrypoints":[{"type":"http-get"}],"endpoints":[{"type":"mock"}]}';
const OPEN = { path: 'x/plans/open.json', text: '{"type":"keyless","name":"Open","status":"published"}' };

describe('parseJson', () => {
  it('reports a syntax error at its line and column, with CRLF line ends and a BOM', () => {
    const result = parseJson('a.json', '\ufeff{\r\n  "a": 1,\r\n  "b": tru\r\n}');
    expect(result).toMatchObject({ ok: false, position: { line: 3, column: 8 } });
  });

  it('reports an unterminated document at its end', () => {
    const result = parseJson('a.json', '{\n  "a": [1, 2\n');
    expect(result.ok).toBe(false);
    if (!result.ok) {
      expect(result.position.line).toBe(2);
      expect(result.message).toMatch(/^invalid JSON: /);
    }
  });

  it('locates keys and values by JSON pointer, falling back to the nearest ancestor', () => {
    const result = parseJson('a.json', '{\n  "list": [\n    { "k": "v" }\n  ]\n}\n');
    if (!result.ok) throw new Error('should parse');
    expect(result.file.locate('/list/0/k')).toEqual({ line: 3, column: 12 });
    expect(result.file.locate('/list/0/k', 'key')).toEqual({ line: 3, column: 7 });
    expect(result.file.locate('/list/0/missing')).toEqual({ line: 3, column: 5 });
  });
});

describe('layout', () => {
  it('ignores hidden files and Markdown, reports other files at the top', () => {
    const { diagnostics } = compileTree(
      [{ path: 'x/api.json', text: API }, OPEN, { path: '.gitkeep', text: '' }, { path: 'README.md', text: '' }, { path: 'x/README.md', text: '' }, { path: 'notes.txt', text: '' }],
      { source },
    );
    expect(diagnostics.map((d) => [d.code, d.file])).toEqual([['UNKNOWN_FILE', 'notes.txt']]);
  });

  it('reports every problem of a tree, not only the first', () => {
    const { diagnostics } = compileTree(
      [{ path: 'x/api.json', text: '{"name": 1' }, { path: 'x/plans/open.json', text: '{"type":"keyless"}' }, { path: 'y/plans/p.json', text: '{}' }],
      { source },
    );
    expect(diagnostics.map((d) => d.code).sort()).toEqual(['JSON_SYNTAX', 'MISSING_API_JSON', 'SCHEMA_REQUIRED', 'SCHEMA_REQUIRED']);
  });

  it('refuses nesting deeper than 64 levels at its position instead of overflowing the stack', () => {
    const deep = `${'['.repeat(100_000)}${']'.repeat(100_000)}`;
    const text = `{"name":"X","contextPaths":["/x"],"entrypoints":[{"type":"http-get"}],"endpoints":[{"type":"mock"}],\n"labels":${deep}}`;
    const { diagnostics } = compileTree([{ path: 'x/api.json', text }, OPEN], { source });
    expect(diagnostics).toEqual([expect.objectContaining({ code: 'JSON_TOO_DEEP', file: 'x/api.json', line: 2, column: 10 + 63 })]);
  });

  it('refuses files larger than 1 MiB without parsing them', () => {
    const { diagnostics } = compileTree([{ path: 'x/api.json', text: ' '.repeat(1024 * 1024 + 1) }, OPEN], { source });
    expect(diagnostics.map((d) => d.code)).toEqual(['FILE_TOO_LARGE']);
  });
});

describe('normaliseContextPath', () => {
  it.each([
    ['/orders', '/orders/'],
    ['/orders/', '/orders/'],
    ['//a//b', '/a/b/'],
    ['/', '/'],
    ['', '/'],
  ])('%s -> %s', (input, output) => expect(normaliseContextPath(input)).toBe(output));
});

describe('formatDiagnostics', () => {
  const diagnostics = [
    { file: 'b/api.json', line: 2, column: 3, pointer: '', code: 'X_ONE', message: 'second, 100%' },
    { file: 'a/api.json', line: 9, column: 1, pointer: '/a', code: 'X_TWO', message: 'first\nline' },
  ];
  it('human: root-joined file:line:col CODE message, sorted', () => {
    expect(formatDiagnostics(diagnostics, 'human', { root: 'apis/' })).toBe('apis/a/api.json:9:1 X_TWO first\nline\napis/b/api.json:2:3 X_ONE second, 100%');
  });
  it('github: workflow commands with escaped data', () => {
    expect(formatDiagnostics(diagnostics, 'github', { root: 'apis' }).split('\n')).toEqual([
      '::error file=apis/a/api.json,line=9,col=1::X_TWO first%0Aline',
      '::error file=apis/b/api.json,line=2,col=3::X_ONE second, 100%25',
    ]);
  });
  it('json: an array', () => {
    expect(JSON.parse(formatDiagnostics(diagnostics, 'json'))).toHaveLength(2);
  });
});
