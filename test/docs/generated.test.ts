/**
 * The reference pages generated from the schemas (`npm run docs`) are fresh, cover every
 * entrypoint, endpoint, plan and policy, and print no empty cell.
 */
import { describe, expect, it } from 'vitest';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { generate } from '../../schemas/gen-docs.ts';
import { read, ROOT } from './markdown.ts';

const pages = generate();

describe('docs/reference generated from schemas/ (npm run docs)', () => {
  it('has one page per entrypoint, endpoint, plan and policy schema, plus api.json, subscription and the index', () => {
    const expected = ['entrypoints', 'endpoints', 'plans', 'policies'].flatMap((kind) =>
      readdirSync(join(ROOT, 'schemas', kind))
        .filter((f) => f.endsWith('.schema.json'))
        .map((f) => `${kind}/${f.replace('.schema.json', '')}.md`),
    );
    expect([...pages.keys()].sort()).toEqual([...expected, 'files/api.md', 'files/subscription.md', 'types.md'].sort());
  });

  it.each([...pages.keys()])('docs/reference/%s is what `npm run docs` writes (run it after a schema change)', (path) => {
    expect(read(`docs/reference/${path}`)).toBe(pages.get(path));
  });

  it('every field row has a type, a default or –, required yes/no and a description', () => {
    const empty: string[] = [];
    for (const [path, content] of pages) {
      for (const row of content.split('\n').filter((l) => l.startsWith('| `'))) {
        const cells = row.slice(1, -1).split(/(?<!\\)\|/).map((c) => c.trim());
        if (cells.length < 2 || cells.some((c) => c === '')) empty.push(`${path}: ${row}`);
      }
    }
    expect(empty).toEqual([]);
  });

  it('documents the defaults and the examples of the schemas (kafka as a sample)', () => {
    const kafka = pages.get('endpoints/kafka.md')!;
    expect(kafka).toContain('| `consumer.autoOffsetReset` | `"latest"` | `"earliest"` | `"latest"` | no |'.replace('`"latest"` | `"earliest"`', '`"latest"` \\| `"earliest"`'));
    expect(kafka).toContain('| `security.sasl.password` | secret: `{"env": NAME}` or `{"file": PATH}` | – | yes |');
    expect(kafka).toMatch(/## Example\n\n<!-- schema: endpoints\/kafka -->\n```json\n\{\n {2}"type": "kafka"/);
  });
});
