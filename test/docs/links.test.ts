/**
 * Every relative link in README.md and docs/ resolves: the file or folder exists, and a `#anchor`
 * names a heading of the target page (or of the page itself). External links (http, mailto) are
 * not fetched.
 */
import { describe, expect, it } from 'vitest';
import { existsSync, statSync } from 'node:fs';
import { dirname, join, normalize } from 'node:path';
import { anchors, links, markdownFiles, ROOT } from './markdown.ts';

describe('links in README.md and docs/', () => {
  const files = markdownFiles();

  it('finds the pages (README and the guides and reference)', () => {
    expect(files).toContain('README.md');
    expect(files).toContain('docs/reference/errors.md');
    expect(files.length).toBeGreaterThan(20);
  });

  it.each(files)('%s: every relative link and #anchor resolves', (file) => {
    const broken: string[] = [];
    for (const { target, line } of links(file)) {
      if (/^[a-z][a-z0-9+.-]*:/i.test(target)) continue; // http:, https:, mailto:
      const [path, anchor] = target.split('#');
      const resolved = path ? normalize(join(dirname(file), decodeURIComponent(path))).split('\\').join('/') : file;
      if (!existsSync(join(ROOT, resolved))) {
        broken.push(`${file}:${line} ${target}: ${resolved} does not exist`);
        continue;
      }
      if (anchor === undefined) continue;
      if (statSync(join(ROOT, resolved)).isDirectory() || !resolved.endsWith('.md')) {
        broken.push(`${file}:${line} ${target}: an anchor into something that is not a Markdown page`);
      } else if (!anchors(resolved).has(anchor)) {
        broken.push(`${file}:${line} ${target}: ${resolved} has no heading with the anchor #${anchor} (it has: ${[...anchors(resolved)].join(', ')})`);
      }
    }
    expect(broken).toEqual([]);
  });
});

describe('navigation', () => {
  it('README.md links every guide and hand-written reference page; types.md every generated one', () => {
    const targets = (file: string) =>
      new Set(links(file).map(({ target }) => normalize(join(dirname(file), target.split('#')[0])).split('\\').join('/')));
    const fromReadme = targets('README.md');
    const fromIndex = targets('docs/reference/types.md');
    const generated = /^docs\/reference\/(entrypoints|endpoints|plans|policies|files)\//;
    const unlinked = markdownFiles().filter(
      (file) => /^docs\/(guides|reference)\//.test(file) && !(generated.test(file) ? fromIndex : fromReadme).has(file),
    );
    expect(unlinked).toEqual([]);
  });
});
