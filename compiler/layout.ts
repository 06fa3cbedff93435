/**
 * Read stage, part 2: the shape of an APIs tree. Each API is one folder holding `api.json`,
 * `plans/<key>.json` and `subscriptions/<application>.json`; Markdown files are documentation and
 * hidden files are ignored. Everything else is reported, never silently skipped.
 */
import { diagnosticForFile, type Diagnostic } from './diagnostic.ts';
import type { SourceFile } from './source.ts';

/** Folder names: lowercase letters, digits and inner dashes, at most 63 characters (a DNS label). */
export const API_ID = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;
/** Plan file names, as subscription.plan refers to them. */
export const PLAN_KEY = /^[a-z0-9][a-z0-9-]*$/;
/** Subscription file names (the application name). */
export const SUBSCRIPTION_NAME = /^[a-z0-9][a-z0-9._-]{0,127}$/;

export interface ApiFolder {
  id: string;
  api?: SourceFile;
  /** By plan key (file name without .json). */
  plans: Map<string, SourceFile>;
  /** By application name (file name without .json). */
  subscriptions: Map<string, SourceFile>;
}

const FOLDER_CONTENTS = 'an API folder holds api.json, plans/<key>.json and subscriptions/<application>.json';

/** Sort files into API folders; report unknown files, bad names and folders without api.json. */
export function layoutTree(files: readonly SourceFile[]): { folders: Map<string, ApiFolder>; diagnostics: Diagnostic[] } {
  const folders = new Map<string, ApiFolder>();
  const diagnostics: Diagnostic[] = [];
  if (files.some((file) => file.path === 'api.json')) {
    // One API folder given where the folder of API folders was expected: one clear message, not
    // a complaint about each of its files.
    const message = 'api.json at the top of the APIs folder: this is one API folder; give the folder that holds the API folders (its parent, e.g. `sluice validate apis`)';
    return { folders, diagnostics: [diagnosticForFile('api.json', 'UNKNOWN_FILE', message)] };
  }
  const seen = new Set<string>();
  const folderOf = (id: string) => {
    let folder = folders.get(id);
    if (!folder) folders.set(id, (folder = { id, plans: new Map(), subscriptions: new Map() }));
    return folder;
  };

  for (const given of files) {
    const parts = given.path.split('/').filter((part) => part !== '');
    if (parts.length === 0 || parts.some((part) => part.startsWith('.'))) continue;
    const path = parts.join('/');
    // Later stages name the file by this normalised path ("a//api.json" is "a/api.json").
    const file = path === given.path ? given : { ...given, path };
    if (seen.has(path)) {
      diagnostics.push(diagnosticForFile(path, 'DUPLICATE_FILE', `${path} appears twice in the tree`));
      continue;
    }
    seen.add(path);
    const isMarkdown = /\.md$/i.test(path);
    const known = parts.length === 2 ? parts[1] === 'api.json' : parts.length === 3 && (parts[1] === 'plans' || parts[1] === 'subscriptions') && parts[2].endsWith('.json');
    if (file.code === 'SYMLINK_OUTSIDE' && !known) {
      // Reported wherever it is (a README.md too); a link in a place the compiler reads is reported when it is parsed.
      diagnostics.push(diagnosticForFile(path, 'SYMLINK_OUTSIDE', `${path} ${file.unreadable}`));
      continue;
    }
    if (parts.length === 1) {
      if (!isMarkdown) {
        diagnostics.push(
          diagnosticForFile(path, 'UNKNOWN_FILE', `unknown file ${path}: files at the top of the APIs folder are not read; each API is a folder (${FOLDER_CONTENTS})`),
        );
      }
      continue;
    }
    const folder = folderOf(parts[0]);
    const [, second, third] = parts;
    if (parts.length === 2 && second === 'api.json') folder.api = file;
    else if (parts.length === 2 && isMarkdown) continue;
    else if (parts.length === 3 && second === 'plans' && third.endsWith('.json')) {
      const key = third.slice(0, -'.json'.length);
      if (PLAN_KEY.test(key)) folder.plans.set(key, file);
      else diagnostics.push(diagnosticForFile(path, 'INVALID_PLAN_KEY', `plan file name "${key}" is not a valid plan key: use lowercase letters, digits and dashes (e.g. plans/gold.json)`));
    } else if (parts.length === 3 && second === 'subscriptions' && third.endsWith('.json')) {
      const name = third.slice(0, -'.json'.length);
      if (SUBSCRIPTION_NAME.test(name)) folder.subscriptions.set(name, file);
      else diagnostics.push(diagnosticForFile(path, 'INVALID_SUBSCRIPTION_NAME', `subscription file name "${name}" is not a valid application name: use lowercase letters, digits, ".", "_" and "-"`));
    } else {
      const message = unknownFileMessage(path, parts);
      diagnostics.push(diagnosticForFile(path, 'UNKNOWN_FILE', file.unreadable ? message.replace(`unknown file ${path}`, `unknown file ${path} (it ${file.unreadable})`) : message));
    }
  }

  for (const folder of folders.values()) {
    const apiPath = `${folder.id}/api.json`;
    if (!API_ID.test(folder.id)) {
      diagnostics.push(
        diagnosticForFile(folder.api ? apiPath : firstFileOf(folder) ?? apiPath, 'INVALID_API_ID', `API folder name "${folder.id}" is not a valid API id: use lowercase letters, digits and inner dashes, at most 63 characters`),
      );
    }
    if (!folder.api) {
      const example = firstFileOf(folder);
      diagnostics.push(diagnosticForFile(apiPath, 'MISSING_API_JSON', `API folder ${folder.id}/ has no api.json${example ? ` (it holds ${example})` : ''}`));
    }
  }
  return { folders, diagnostics };
}

function firstFileOf(folder: ApiFolder): string | undefined {
  const plan = folder.plans.values().next().value;
  const subscription = folder.subscriptions.values().next().value;
  return (plan ?? subscription)?.path;
}

function unknownFileMessage(path: string, parts: string[]): string {
  const [, second] = parts;
  if ((second === 'plans' || second === 'subscriptions') && parts.length === 3) {
    return `unknown file ${path}: ${second}/ holds only .json files`;
  }
  if ((second === 'plans' || second === 'subscriptions') && parts.length > 3) {
    return `unknown file ${path}: ${second}/ has no sub-folders`;
  }
  return `unknown file ${path}: ${FOLDER_CONTENTS}`;
}
