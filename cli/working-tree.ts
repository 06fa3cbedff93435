/**
 * Dev mode's source (`npm start`): compiles an APIs folder of the working tree now and after
 * every save under it (debounced). A tree that does not compile prints its diagnostics and the
 * last good bundle keeps serving.
 */
import { relative, resolve } from 'node:path';
import { watch } from 'chokidar';
import type { BundleSource } from '../runtime/sources/source.ts';
import { compileFolder, formatDiagnostics } from '../compiler/index.ts';
import { log } from '../runtime/log.ts';

export interface WorkingTreeOptions {
  /** Where diagnostics are printed (default stderr). */
  readonly print?: (text: string) => void;
  /** Quiet period after the last change before recompiling (default 100 ms). */
  readonly debounceMs?: number;
  /** `dev --env ENV`: the overlay APIS_DIR/environments/ENV.json applied on every compile. */
  readonly environment?: string;
}

export function workingTreeSource(path: string, options: WorkingTreeOptions = {}): BundleSource {
  const dir = resolve(path);
  const print = options.print ?? ((text: string) => process.stderr.write(`${text}\n`));
  const root = relative(process.cwd(), dir) || '.';
  return {
    description: `working tree ${dir}`,
    async watch(onBundle, signal) {
      // After diagnostics, a clean compile says so: when it gives the bundle already served
      // (the save undid the mistake), no deploy line would tell the user it is fixed.
      let broken = false;
      const compile = async () => {
        let result;
        try {
          result = await compileFolder(dir, options.environment === undefined ? {} : { environment: options.environment });
        } catch (error) {
          log.error({ dir, err: (error as Error).message }, 'compile failed; the last good bundle keeps serving');
          return;
        }
        if (!result.bundle) {
          broken = true;
          print(formatDiagnostics(result.diagnostics, 'human', { root, omitted: result.omitted }));
          log.warn({ dir, diagnostics: result.diagnostics.length }, 'the APIs do not compile; the last good bundle keeps serving');
          return;
        }
        if (broken) print(`${root}: compiles again (bundle ${result.bundle.id.slice(0, 12)})`);
        broken = false;
        await onBundle(result.bundle, `working tree ${root}`);
      };
      await compile();
      if (signal.aborted) return;
      const watcher = watch(dir, { ignoreInitial: true, ignored: (p) => /(^|[\\/])\.[^\\/]/.test(relative(dir, p)) });
      let timer: NodeJS.Timeout | undefined;
      let queue = Promise.resolve();
      const changed = () => {
        clearTimeout(timer);
        timer = setTimeout(() => (queue = queue.then(compile)), options.debounceMs ?? 100);
      };
      watcher.on('all', changed).on('error', (error) => log.error({ err: String(error) }, 'watching the APIs folder failed'));
      signal.addEventListener('abort', () => {
        clearTimeout(timer);
        void watcher.close();
      }, { once: true });
      // Changes are seen only once the watcher is ready.
      await new Promise<void>((resolve) => watcher.once('ready', () => resolve()));
    },
  };
}
