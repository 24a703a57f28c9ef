import { createHookgateApp } from './hookgate-app';

// The entry cdk.json runs (`npx tsx infra/app.ts`); the CLI synthesises the app when it exits.
createHookgateApp();
