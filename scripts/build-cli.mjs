// Bundles the CLI into dist/hookgate.mjs so `npx hookgate` starts without compiling TypeScript.
import { build } from 'esbuild';

await build({
  entryPoints: [new URL('../cli/entry.ts', import.meta.url).pathname],
  outfile: new URL('../dist/hookgate.mjs', import.meta.url).pathname,
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  packages: 'external',
  sourcemap: 'linked',
  logLevel: 'warning',
});
