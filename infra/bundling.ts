import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type BundlingOptions, LogLevel, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import type { BuildOptions } from 'esbuild';

/** The repository root: NodejsFunction's project root and where the lock file lives. */
export const PROJECT_ROOT = fileURLToPath(new URL('..', import.meta.url));

export const LOCK_FILE = join(PROJECT_ROOT, 'package-lock.json');

/** Lambda entry points, by function. */
export const ENTRIES = {
  webhook: join(PROJECT_ROOT, 'functions/webhook/handler.ts'),
  processor: join(PROJECT_ROOT, 'functions/processor/handler.ts'),
  admin: join(PROJECT_ROOT, 'functions/admin/handler.ts'),
  sweeper: join(PROJECT_ROOT, 'functions/sweeper/handler.ts'),
} as const;

/**
 * The esbuild settings every function is built with, in the stack and in the benchmark (through
 * `esbuildOptions`). Measured on this code base (esbuild 0.28):
 * - `mainFields: module, main` lets esbuild take the SDK's ES builds and tree-shake them: the whole
 *   bundles drop from about 655 KB to about 445 KB.
 * - ESM output needs no `createRequire` banner: no bundled dependency calls `require`, so esbuild
 *   emits no dynamic-require shim (test/infra asserts it stays that way).
 * - The SDK is bundled (`externalModules: []`): the version is the one we test, not the runtime's.
 * - Source maps carry mappings only (`sourcesContent: false`): stack traces need no sources, and the
 *   map stays small enough to load quickly with `--enable-source-maps`.
 */
export const BUNDLING = {
  format: OutputFormat.ESM,
  target: 'node24',
  mainFields: ['module', 'main'],
  minify: true,
  sourceMap: true,
  sourcesContent: false,
  externalModules: [],
  forceDockerBundling: false,
  logLevel: LogLevel.WARNING,
} satisfies BundlingOptions;

/** The output file name NodejsFunction gives an ESM bundle (its handler is `index.handler`). */
export const BUNDLE_FILE = 'index.mjs';

/**
 * The same build as NodejsFunction runs with `BUNDLING`, for esbuild's JavaScript API: what the
 * benchmark and the bundle-size test build. `external` adds modules to leave out (for example
 * `@aws-sdk/*` to measure a function's own code).
 */
export function esbuildOptions(
  entry: string,
  outdir: string,
  external: readonly string[] = [],
): BuildOptions {
  return {
    entryPoints: [entry],
    outfile: join(outdir, BUNDLE_FILE),
    bundle: true,
    platform: 'node',
    target: BUNDLING.target,
    format: BUNDLING.format as `${OutputFormat}`,
    mainFields: [...BUNDLING.mainFields],
    minify: BUNDLING.minify,
    sourcemap: BUNDLING.sourceMap,
    sourcesContent: BUNDLING.sourcesContent,
    external: [...BUNDLING.externalModules, ...external],
    logLevel: BUNDLING.logLevel as `${LogLevel}`,
  };
}
