/**
 * transform: declarative JSON transformation of the content, in the order pick, rename, set, remove.
 * Paths are dot-separated (`order.customer.id`; a numeric segment indexes an array: `items.0`).
 * Content that is not a JSON object or array is left as is and counted (`not-json`).
 *
 * - pick:   keep only these paths (the result has the same nesting)
 * - rename: move the value at `from` to `to` (skipped when `from` is absent)
 * - set:    put a constant JSON value at the path, creating objects on the way
 * - remove: delete the path (an array element is spliced out)
 *
 * Configuration refused (at compile time by `check`, and by `build`): empty paths or segments, the
 * segments `__proto__`/`constructor`/`prototype`, a step with no operation, and paths that conflict
 * (one is the other or a prefix of it within a list, or a later operation undoes an earlier one).
 */
import type { TransformPolicy } from '../../schemas/types.ts';
import { contentText, isPlainObject, UNSAFE_PROPERTIES } from './content.ts';
import { PolicyConfigError, pointerToken, type PolicyModule, type PolicyProblem } from './policy.ts';

type Path = readonly string[];
type Container = Record<string, unknown> | unknown[];

const INDEX = /^(0|[1-9]\d{0,8})$/;

function parsePath(raw: string, where: string, problems: PolicyProblem[]): Path | null {
  const segments = raw.split('.');
  if (raw === '' || segments.some((s) => s === '')) {
    problems.push({ path: where, code: 'POLICY_INVALID_PATH', message: `"${raw}" has an empty segment` });
    return null;
  }
  const unsafe = segments.find((s) => UNSAFE_PROPERTIES.has(s));
  if (unsafe) {
    problems.push({ path: where, code: 'POLICY_UNSAFE_ACCESS', message: `"${raw}": the segment "${unsafe}" is not allowed` });
    return null;
  }
  return segments;
}

/**
 * Paths seen so far, as a trie of segments, so that finding one earlier path that overlaps a new one
 * (one is the other, or a prefix of it) costs the new path's length, not the number of paths seen.
 * Each node records the first path ending there and, per operation, the first path at or below it.
 */
interface Seen {
  op: string;
  raw: string;
}
interface TrieNode {
  children: Map<string, TrieNode>;
  /** Paths ending at this node, first per operation. */
  here: Map<string, Seen>;
  /** Paths at or below this node, first per operation. */
  below: Map<string, Seen>;
}
const trieNode = (): TrieNode => ({ children: new Map(), here: new Map(), below: new Map() });

/** One earlier path of an operation in `against` that overlaps `path`, then records `path`. */
function overlapAndRecord(root: TrieNode, op: string, path: Path, raw: string, against: readonly string[]): Seen | undefined {
  let found: Seen | undefined;
  let node = root;
  const visited: TrieNode[] = [root];
  for (const segment of path) {
    for (const other of against) found ??= node.here.get(other); // earlier paths that are prefixes of this one
    let next = node.children.get(segment);
    if (!next) node.children.set(segment, (next = trieNode()));
    node = next;
    visited.push(node);
  }
  for (const other of against) found ??= node.below.get(other); // the same path, or longer ones under it
  const entry = { op, raw };
  if (!node.here.has(op)) node.here.set(op, entry);
  for (const n of visited) if (!n.below.has(op)) n.below.set(op, entry);
  return found;
}

/** Whether some path of `trie` (of operation `op`) is `path` or a prefix of it. */
function hasPrefix(root: TrieNode, op: string, path: Path): boolean {
  let node: TrieNode | undefined = root;
  for (const segment of path) {
    if (node.here.has(op)) return true;
    node = node.children.get(segment);
    if (!node) return false;
  }
  return node.here.has(op);
}

interface Plan {
  pick: Path[];
  rename: [Path, Path][];
  set: [Path, unknown][];
  remove: Path[];
}

function plan(config: TransformPolicy): { plan: Plan; problems: PolicyProblem[] } {
  const problems: PolicyProblem[] = [];
  const conflict = (where: string, message: string) => problems.push({ path: where, code: 'POLICY_CONFLICTING_PATHS', message });
  const out: Plan = { pick: [], rename: [], set: [], remove: [] };
  const seen = trieNode();
  // One conflict per path is enough to act on (and keeps the check linear on long lists).
  const noteOverlaps = (op: string, path: Path, raw: string, where: string, against: string[]) => {
    const other = overlapAndRecord(seen, op, path, raw, against);
    if (other) conflict(where, `${op} "${raw}" overlaps ${other.op} "${other.raw}"`);
  };

  (config.pick ?? []).forEach((raw, i) => {
    const path = parsePath(raw, `/pick/${i}`, problems);
    if (path) (noteOverlaps('pick', path, raw, `/pick/${i}`, ['pick']), out.pick.push(path));
  });
  for (const [rawFrom, rawTo] of Object.entries(config.rename ?? {})) {
    const where = `/rename/${pointerToken(rawFrom)}`;
    const from = parsePath(rawFrom, where, problems);
    const to = parsePath(rawTo, where, problems);
    if (!from || !to) continue;
    if (out.pick.length > 0 && !hasPrefix(seen, 'pick', from)) {
      conflict(where, `rename "${rawFrom}": pick does not keep it`);
    }
    noteOverlaps('rename', from, rawFrom, where, ['rename', 'rename to']);
    noteOverlaps('rename to', to, rawTo, where, ['rename', 'rename to']);
    out.rename.push([from, to]);
  }
  for (const [raw, value] of Object.entries(config.set ?? {})) {
    const where = `/set/${pointerToken(raw)}`;
    const path = parsePath(raw, where, problems);
    if (path) (noteOverlaps('set', path, raw, where, ['set', 'rename to']), out.set.push([path, value]));
  }
  (config.remove ?? []).forEach((raw, i) => {
    const path = parsePath(raw, `/remove/${i}`, problems);
    if (path) (noteOverlaps('remove', path, raw, `/remove/${i}`, ['remove', 'set', 'rename to']), out.remove.push(path));
  });
  if (out.pick.length + out.rename.length + out.set.length + out.remove.length === 0 && problems.length === 0) {
    problems.push({ path: '', code: 'POLICY_EMPTY_STEP', message: 'the transform step has no pick, rename, set or remove' });
  }
  return { plan: out, problems };
}

function isContainer(value: unknown): value is Container {
  return Array.isArray(value) || isPlainObject(value);
}

function child(container: Container, key: string): unknown {
  if (Array.isArray(container)) return INDEX.test(key) ? container[Number(key)] : undefined;
  return Object.hasOwn(container, key) ? container[key] : undefined;
}

function put(container: Container, key: string, value: unknown): void {
  if (Array.isArray(container)) {
    if (INDEX.test(key)) container[Number(key)] = value;
  } else {
    Object.defineProperty(container, key, { value, writable: true, enumerable: true, configurable: true });
  }
}

function get(root: Container, path: Path): unknown {
  let node: unknown = root;
  for (const key of path) {
    if (!isContainer(node)) return undefined;
    node = child(node, key);
  }
  return node;
}

function setAt(root: Container, path: Path, value: unknown): void {
  let node: Container = root;
  for (let i = 0; i < path.length - 1; i++) {
    let next = child(node, path[i]);
    if (!isContainer(next)) {
      next = {};
      put(node, path[i], next);
      if (child(node, path[i]) !== next) return; // a non-index key on an array: nothing to set
    }
    node = next as Container;
  }
  put(node, path[path.length - 1], value);
}

function removeAt(root: Container, path: Path): void {
  const parent = get(root, path.slice(0, -1));
  const key = path[path.length - 1];
  if (Array.isArray(parent)) {
    if (INDEX.test(key) && Number(key) < parent.length) parent.splice(Number(key), 1);
  } else if (isPlainObject(parent) && Object.hasOwn(parent, key)) {
    delete parent[key];
  }
}

function pickFrom(root: Container, paths: Path[]): Container {
  const out: Container = Array.isArray(root) ? [] : {};
  for (const path of paths) {
    let source: unknown = root;
    let target: Container = out;
    for (let i = 0; i < path.length; i++) {
      if (!isContainer(source)) break;
      const value = child(source, path[i]);
      if (value === undefined) break;
      if (i === path.length - 1) put(target, path[i], value);
      else {
        let next = child(target, path[i]);
        if (!isContainer(next)) put(target, path[i], (next = Array.isArray(value) ? [] : {}));
        target = next as Container;
      }
      source = value;
    }
  }
  return out;
}

export const transform: PolicyModule<TransformPolicy> = {
  check: (config) => plan(config).problems,
  build(config, { count }) {
    const { plan: ops, problems } = plan(config);
    if (problems.some((p) => p.code !== 'POLICY_EMPTY_STEP')) throw new PolicyConfigError(problems);
    if (ops.pick.length + ops.rename.length + ops.set.length + ops.remove.length === 0) return (message) => message;
    return (message) => {
      let root: unknown;
      try {
        root = JSON.parse(contentText(message)); // a private copy: the shared parse cache is never mutated
      } catch {
        root = undefined;
      }
      if (!isContainer(root)) {
        count('not-json');
        return message;
      }
      try {
        if (ops.pick.length > 0) root = pickFrom(root, ops.pick);
        for (const [from, to] of ops.rename) {
          const value = get(root as Container, from);
          if (value === undefined) continue;
          removeAt(root as Container, from);
          setAt(root as Container, to, value);
        }
        for (const [path, value] of ops.set) setAt(root as Container, path, structuredClone(value));
        for (const path of ops.remove) removeAt(root as Container, path);
        return Object.freeze({ ...message, content: Buffer.from(JSON.stringify(root)) });
      } catch {
        count('not-json'); // pathological nesting (RangeError): leave the message as it was
        return message;
      }
    };
  },
};
