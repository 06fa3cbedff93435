/**
 * Just enough of a shell reader for the docs tests: splits a ```sh block into simple commands
 * (words with quotes removed), and checks the ones that run Sluice, npm scripts or files of the
 * repository against the real CLI, package.json and file tree.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { usage } from '../../cli/main.ts';
import { SERVER_FLAGS } from '../../cli/options.ts';
import { ROOT } from './markdown.ts';

/** The simple commands of a shell script: `a | b && c; d &` gives four. Comments are dropped. */
export function commands(script: string): string[][] {
  const out: string[][] = [];
  let words: string[] = [];
  let word: string | undefined;
  const endWord = () => {
    if (word !== undefined) words.push(word);
    word = undefined;
  };
  const endCommand = () => {
    endWord();
    if (words.length) out.push(words);
    words = [];
  };
  for (let i = 0; i < script.length; i++) {
    const c = script[i];
    if (c === '\\' && script[i + 1] === '\n') {
      i++;
      endWord();
    } else if (c === '\\') {
      word = (word ?? '') + (script[++i] ?? '');
    } else if (c === "'") {
      const end = script.indexOf("'", i + 1);
      word = (word ?? '') + script.slice(i + 1, end < 0 ? undefined : end);
      i = end < 0 ? script.length : end;
    } else if (c === '"') {
      let j = i + 1;
      let text = '';
      while (j < script.length && script[j] !== '"') {
        if (script[j] === '\\' && j + 1 < script.length) j++;
        text += script[j++];
      }
      word = (word ?? '') + text;
      i = j;
    } else if (c === '$' && script[i + 1] === '(') {
      // A command substitution stays one opaque word (its content is not a command of the block).
      let depth = 0;
      let j = i + 1;
      for (; j < script.length; j++) {
        if (script[j] === '(') depth++;
        else if (script[j] === ')' && --depth === 0) break;
        else if (script[j] === '"' || script[j] === "'") j = Math.max(j, script.indexOf(script[j], j + 1));
      }
      word = (word ?? '') + script.slice(i, j + 1);
      i = j;
    } else if (c === '#' && word === undefined) {
      while (i < script.length && script[i] !== '\n') i++;
      endCommand();
    } else if (c === '\n' || c === ';' || c === '&' || c === '|') {
      endCommand();
    } else if (c === '<' || c === '>') {
      endWord();
    } else if (c === ' ' || c === '\t') {
      endWord();
    } else {
      word = (word ?? '') + c;
    }
  }
  endCommand();
  return out;
}

/** Each command's accepted flags, read from the CLI's own usage text (and SERVER_FLAGS). */
export function cliFlags(): Map<string, Set<string>> {
  const flags = new Map<string, Set<string>>();
  let current: Set<string> | undefined;
  for (const line of usage().split('\n')) {
    const start = /^\s+sluice ([a-z][a-z-]*)/.exec(line);
    if (start) {
      current = flags.get(start[1]) ?? new Set(['--help', '-h']);
      flags.set(start[1], current);
    } else if (!/^\s{3,}/.test(line)) {
      current = undefined;
    }
    for (const m of line.matchAll(/--[a-z][a-z-]*/g)) current?.add(m[0]);
  }
  for (const command of ['serve', 'dev']) for (const flag of SERVER_FLAGS) flags.get(command)?.add(flag);
  return flags;
}

const scripts = () => (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts;
const NPM_COMMANDS = new Set(['ci', 'install', 'i', 'pack', 'ls', 'exec', 'run', 'run-script', 'start', 'test']);

/** What is wrong with one simple command of a ```sh block ([] when nothing). */
export function problems(words: readonly string[], flags = cliFlags()): string[] {
  let w = [...words];
  while (w.length && /^[A-Za-z_][A-Za-z0-9_]*=/.test(w[0])) w = w.slice(1); // VAR=value cmd
  if (!w.length) return [];
  const exists = (file: string) => (existsSync(join(ROOT, file)) ? [] : [`${file} does not exist`]);
  if (w[0] === 'npx' && w[1] === 'sluice') return sluice(w.slice(2), flags);
  if (w[0] === 'sluice') return sluice(w.slice(1), flags);
  if (w[0] === 'node' && w[1] === 'bin/sluice.js') return sluice(w.slice(2), flags);
  if (w[0] === 'npm') {
    if (!NPM_COMMANDS.has(w[1] ?? '')) return [`npm ${w[1] ?? ''}: not an npm command the docs use (${[...NPM_COMMANDS].join(', ')})`];
    const script = w[1] === 'run' || w[1] === 'run-script' ? w[2] : w[1] === 'start' || w[1] === 'test' ? w[1] : undefined;
    if (script !== undefined && !(script in scripts())) return [`npm run ${script}: package.json has no script "${script}"`];
    const rest = w.indexOf('--');
    if (script === 'start' && rest >= 0) return sluice(['dev', ...w.slice(rest + 1)], flags);
    return [];
  }
  if (w[0] === 'node' && w[1] && !w[1].startsWith('-')) {
    return [...exists(w[1]), ...(w[1] === 'bin/run-ts.js' && w[2] ? exists(w[2]) : [])];
  }
  if (/^(\.\/)?[\w.-]+\/[\w./-]+$/.test(w[0])) return exists(w[0]);
  return [];
}

function sluice(args: readonly string[], flags: Map<string, Set<string>>): string[] {
  const [command, ...rest] = args;
  if (command === undefined || command === '--version' || command === '-V' || command === '--help') return [];
  const accepted = flags.get(command);
  if (!accepted) return [`sluice ${command}: no such command (${[...flags.keys()].join(', ')})`];
  const out: string[] = [];
  for (const arg of rest) {
    if (arg === '--') break;
    if (!arg.startsWith('-') || arg === '-') continue;
    const name = arg.split('=')[0];
    if (!accepted.has(name)) out.push(`sluice ${command}: unknown flag ${name} (it takes ${[...accepted].join(' ')})`);
  }
  return out;
}
