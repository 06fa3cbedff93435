/**
 * Reading the documentation for the docs tests: the Markdown files (README.md and docs/**), their
 * fenced blocks with the marker comment before each, their links and their headings' anchors.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** README.md and every Markdown file under docs/, as repository-relative paths. */
export function markdownFiles(): string[] {
  const files = ['README.md'];
  const walk = (dir: string) => {
    for (const entry of readdirSync(join(ROOT, dir), { withFileTypes: true })) {
      const path = `${dir}/${entry.name}`;
      if (entry.isDirectory()) walk(path);
      else if (entry.name.endsWith('.md')) files.push(path);
    }
  };
  walk('docs');
  return files.sort();
}

export const read = (file: string) => readFileSync(join(ROOT, file), 'utf8');

export interface Block {
  readonly file: string;
  /** 1-based line of the opening fence. */
  readonly line: number;
  /** The fence's info string ('' when none). */
  readonly lang: string;
  /** `<!-- schema: X -->` or `<!-- run -->` on the last non-blank line before the fence. */
  readonly marker?: { kind: 'schema'; name: string } | { kind: 'run' };
  readonly text: string;
}

const MARKER = /^\s*<!--\s*(schema:\s*([\w/-]+)|run)\s*-->\s*$/;

/** The fenced code blocks of a Markdown file (``` fences, indented ones in lists too). */
export function blocks(file: string): Block[] {
  const lines = read(file).split('\n');
  const out: Block[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = /^(\s*)```(.*)$/.exec(lines[i]);
    if (!open) continue;
    const indent = open[1].length;
    let j = i + 1;
    while (j < lines.length && !/^\s*```\s*$/.test(lines[j])) j++;
    let k = i - 1;
    while (k >= 0 && lines[k].trim() === '') k--;
    const m = k >= 0 ? MARKER.exec(lines[k]) : null;
    const marker = m ? (m[2] ? { kind: 'schema' as const, name: m[2] } : { kind: 'run' as const }) : undefined;
    const text = lines.slice(i + 1, j).map((l) => l.slice(Math.min(indent, l.length - l.trimStart().length))).join('\n');
    out.push({ file, line: i + 1, lang: open[2].trim(), marker, text });
    i = j;
  }
  return out;
}

/** The text outside fenced blocks and inline code spans (where links live). */
function prose(file: string): { text: string; raw: string; line: number }[] {
  const out: { text: string; raw: string; line: number }[] = [];
  let inFence = false;
  read(file)
    .split('\n')
    .forEach((text, i) => {
      if (/^\s*```/.test(text)) {
        inFence = !inFence;
        return;
      }
      if (!inFence) out.push({ text: text.replace(/`[^`]*`/g, '``'), raw: text, line: i + 1 });
    });
  return out;
}

/** Every inline link target `[text](target)` outside code, with its line. */
export function links(file: string): { target: string; line: number }[] {
  const out: { target: string; line: number }[] = [];
  for (const { text, line } of prose(file)) {
    for (const m of text.matchAll(/\]\(([^)\s]+)(?:\s+"[^"]*")?\)/g)) out.push({ target: m[1], line });
  }
  return out;
}

/** GitHub's anchor of a heading: lower case, punctuation dropped, spaces to dashes. */
export function slug(heading: string): string {
  return heading
    .replace(/`/g, '')
    .replace(/\[([^\]]*)\]\([^)]*\)/g, '$1')
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s_-]/gu, '')
    .replace(/\s/g, '-');
}

/** The anchors a Markdown file defines (its headings, numbered like GitHub's when repeated). */
export function anchors(file: string): Set<string> {
  const seen = new Map<string, number>();
  const out = new Set<string>();
  for (const { raw } of prose(file)) {
    const m = /^#{1,6}\s+(.*?)\s*#*\s*$/.exec(raw);
    if (!m) continue;
    const base = slug(m[1]);
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    out.add(n ? `${base}-${n}` : base);
  }
  return out;
}

export const repoPath = (absolute: string) => relative(ROOT, absolute).split('\\').join('/');
