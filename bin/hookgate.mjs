#!/usr/bin/env node
// Runs the bundled CLI; builds it first when the bundle is missing (a checkout without `npm ci`).
import { existsSync } from 'node:fs';

const bundle = new URL('../dist/hookgate.mjs', import.meta.url);
if (!existsSync(bundle)) await import('../scripts/build-cli.mjs');
await import(bundle.href);
