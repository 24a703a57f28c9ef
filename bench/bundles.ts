import { mkdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { build, type Metafile } from 'esbuild';
import { BUNDLE_FILE, esbuildOptions } from '../infra/bundling';
import type { BenchFunction, FunctionName } from './lib/functions';

export interface BundleSize {
  minifiedBytes: number;
  gzipBytes: number;
  ownCodeBytes: number;
}

export interface BuiltBundle extends BundleSize {
  /** The whole bundle (SDK included): what the cold start loads. */
  file: string;
  /** Output bytes by package (`@aws-sdk/client-dynamodb`, `(own code)` …), largest first. */
  byPackage: [string, number][];
}

/**
 * Builds each function with the stack's esbuild settings (`esbuildOptions`), once whole and once
 * with `@aws-sdk/*` external: bytes of the minified bundle, of its gzip (level 9), and of the
 * function's own code. Source maps are written beside the bundle and not counted.
 */
export async function buildBundles(
  functions: readonly BenchFunction[],
  outdir: string,
): Promise<Partial<Record<FunctionName, BuiltBundle>>> {
  const built: Partial<Record<FunctionName, BuiltBundle>> = {};
  for (const fn of functions) {
    const whole = join(outdir, fn.name);
    const own = join(outdir, `${fn.name}-own`);
    await Promise.all([mkdir(whole, { recursive: true }), mkdir(own, { recursive: true })]);
    const [full] = await Promise.all([
      build({ ...esbuildOptions(fn.entry, whole), metafile: true }),
      build(esbuildOptions(fn.entry, own, ['@aws-sdk/*'])),
    ]);
    const file = join(whole, BUNDLE_FILE);
    const bytes = await readFile(file);
    built[fn.name] = {
      file,
      minifiedBytes: bytes.length,
      gzipBytes: gzipSync(bytes, { level: 9 }).length,
      ownCodeBytes: (await stat(join(own, BUNDLE_FILE))).size,
      byPackage: byPackage(full.metafile),
    };
  }
  return built;
}

/** Output bytes grouped by the npm package each input came from; the repository's files are `(own code)`. */
export function byPackage(metafile: Metafile | undefined): [string, number][] {
  const totals = new Map<string, number>();
  for (const output of Object.values(metafile?.outputs ?? {})) {
    for (const [path, input] of Object.entries(output.inputs)) {
      const name = packageOf(path);
      totals.set(name, (totals.get(name) ?? 0) + input.bytesInOutput);
    }
  }
  return [...totals].sort((a, b) => b[1] - a[1]);
}

export function packageOf(path: string): string {
  // The innermost node_modules: a nested copy belongs to the package that holds it there.
  const matches = [...path.replaceAll('\\', '/').matchAll(/(?:^|\/)node_modules\/((?:@[^/]+\/)?[^/]+)/g)];
  return matches.at(-1)?.[1] ?? '(own code)';
}
