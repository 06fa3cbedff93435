/**
 * Context paths: normalised (leading and trailing "/", no "//"), without "." or ".." segments, not
 * the developer catalog's path (RESERVED_CONTEXT_PATH), and no path may be a prefix of another
 * (within one API or between APIs). O(n log n): sort, then a
 * stack of open prefixes. Overlapping pairs can be quadratic in number (a chain of nested paths):
 * only the first MAX_DIAGNOSTICS_PER_CODE diagnostics are built, the rest are counted in O(1) per
 * path from per-API counts of the open stack.
 */
import { diagnosticAt, MAX_DIAGNOSTICS_PER_CODE, type Diagnostic } from '../diagnostic.ts';
import type { ApiModel } from './model.ts';
import type { ParsedFile } from '../source.ts';
import { parseTemplate } from '../../core/channel.ts';

/** "/orders" -> "/orders/", "//a//b" -> "/a/b/", "" -> "/". */
export function normaliseContextPath(path: string): string {
  const collapsed = `/${path}/`.replace(/\/{2,}/g, '/');
  return collapsed;
}

/**
 * The runtime serves its developer catalog at `--catalog-path`, default `/catalog` (checked before
 * routing: an API at or under it would never be reached). The compiler cannot know the flag a
 * gateway runs with, so it refuses the default; an operator who moves the catalog keeps the path
 * they pick free of APIs themselves.
 */
export const RESERVED_CONTEXT_PATH = '/catalog/';

interface Entry {
  path: string;
  apiId: string;
  file: ParsedFile;
  pointer: string;
}

/** Diagnostics, and how many CONTEXT_PATH_OVERLAP diagnostics were counted but not built. */
export function checkContextPaths(models: readonly ApiModel[]): { diagnostics: Diagnostic[]; omitted: number } {
  const entries: Entry[] = [];
  const dotted: Diagnostic[] = [];
  for (const model of models) {
    const file = model.api?.file ?? model.parsedApi;
    const paths = (file?.value as { contextPaths?: unknown } | undefined)?.contextPaths;
    if (!file || !Array.isArray(paths)) continue;
    paths.forEach((path: unknown, index) => {
      if (typeof path !== 'string' || !path.startsWith('/')) return;
      const pointer = `/contextPaths/${index}`;
      // "/a/../b" would dodge the overlap check, and clients normalise such paths before sending them.
      if (path.split('/').some((segment) => segment === '.' || segment === '..')) {
        dotted.push(diagnosticAt(file, pointer, 'CONTEXT_PATH_DOT_SEGMENT', `context path ${path} has a "." or ".." segment: write the path it means (clients never send these segments)`));
        return;
      }
      // A template claims everything under its static prefix (/sensors/{deviceId} -> /sensors/).
      let template: ReturnType<typeof parseTemplate>;
      try {
        template = parseTemplate(path);
      } catch (error) {
        dotted.push(diagnosticAt(file, pointer, 'CONTEXT_PATH_TEMPLATE', (error as Error).message));
        return;
      }
      const normalised = template ? template.prefix : normaliseContextPath(path);
      if (normalised.startsWith(RESERVED_CONTEXT_PATH)) {
        dotted.push(diagnosticAt(file, pointer, 'CONTEXT_PATH_RESERVED', `context path ${path} is the developer catalog's (${RESERVED_CONTEXT_PATH.slice(0, -1)}, where the gateway serves its API catalog by default): choose another path`));
        return;
      }
      entries.push({ path: normalised, apiId: model.id, file, pointer });
    });
  }
  entries.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : a.apiId < b.apiId ? -1 : a.apiId > b.apiId ? 1 : 0));

  const diagnostics: Diagnostic[] = dotted;
  let built = 0;
  let omitted = 0;
  const open: Entry[] = [];
  /** Entries of the open stack per API id. */
  const openOf = new Map<string, number>();
  const count = (apiId: string, by: number) => openOf.set(apiId, (openOf.get(apiId) ?? 0) + by);
  for (const entry of entries) {
    while (open.length && !entry.path.startsWith(open[open.length - 1].path)) count(open.pop()!.apiId, -1);
    if (built < MAX_DIAGNOSTICS_PER_CODE) {
      for (const other of open) {
        if (built >= MAX_DIAGNOSTICS_PER_CODE) {
          omitted += other.apiId === entry.apiId ? 1 : 2;
          continue;
        }
        for (const d of overlap(other, entry)) {
          diagnostics.push(d);
          built++;
        }
      }
    } else {
      const same = openOf.get(entry.apiId) ?? 0;
      omitted += same + 2 * (open.length - same);
    }
    open.push(entry);
    count(entry.apiId, 1);
  }
  return { diagnostics, omitted };
}

/** One diagnostic in each file, each naming the other (one when both are in the same file). */
function overlap(shorter: Entry, longer: Entry): Diagnostic[] {
  const where = (e: Entry) => {
    const { line, column } = e.file.locate(e.pointer);
    return `${e.file.path}:${line}:${column}`;
  };
  const same = shorter.path === longer.path;
  if (shorter.apiId === longer.apiId) {
    const text = same
      ? `context path ${longer.path} is listed twice in API ${longer.apiId} (also at ${where(shorter)})`
      : `context path ${longer.path} lies under ${shorter.path} of the same API (${where(shorter)})`;
    return [diagnosticAt(longer.file, longer.pointer, 'CONTEXT_PATH_OVERLAP', text)];
  }
  const relation = same ? 'is also the context path of' : 'lies under';
  return [
    diagnosticAt(
      longer.file,
      longer.pointer,
      'CONTEXT_PATH_OVERLAP',
      `context path ${longer.path} ${relation} ${same ? `API ${shorter.apiId}` : `${shorter.path} of API ${shorter.apiId}`} (${where(shorter)})`,
    ),
    diagnosticAt(
      shorter.file,
      shorter.pointer,
      'CONTEXT_PATH_OVERLAP',
      same
        ? `context path ${shorter.path} is also the context path of API ${longer.apiId} (${where(longer)})`
        : `context path ${shorter.path} is a prefix of ${longer.path} of API ${longer.apiId} (${where(longer)})`,
    ),
  ];
}
