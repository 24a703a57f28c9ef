// Bundles the CLI into dist/hookgate.mjs so `npx hookgate` starts without compiling TypeScript.
// Commands are split into chunks (dist/chunks/) that load on use, so `hookgate evaluate` never
// loads dynalite or the AWS SDK.
import { readdir, rm } from 'node:fs/promises';
import { basename } from 'node:path';
import { build } from 'esbuild';

const dist = new URL('../dist/', import.meta.url).pathname;
const chunks = `${dist}chunks/`;

const result = await build({
  entryPoints: { hookgate: new URL('../cli/entry.ts', import.meta.url).pathname },
  outdir: dist,
  outExtension: { '.js': '.mjs' },
  chunkNames: 'chunks/[name]-[hash]',
  splitting: true,
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  packages: 'external',
  sourcemap: 'linked',
  metafile: true,
  logLevel: 'warning',
});

// Chunk names carry a content hash: remove the ones earlier builds left behind.
const current = new Set(Object.keys(result.metafile.outputs).map((path) => basename(path)));
for (const name of await readdir(chunks).catch(() => [])) {
  if (!current.has(name) && !current.has(name.replace(/\.map$/, '')))
    await rm(`${chunks}${name}`, { force: true });
}
