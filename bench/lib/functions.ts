import { existsSync } from 'node:fs';
import { join, relative } from 'node:path';
import { ENTRIES, PROJECT_ROOT } from '../../infra/bundling';

export type FunctionName = 'webhook' | 'processor' | 'admin';

export interface BenchFunction {
  name: FunctionName;
  entry: string;
}

/**
 * The Lambda functions to measure: the stack's entries (`ENTRIES`), the admin function included
 * when its handler exists. An entry whose file is missing is skipped with a note.
 */
export function benchFunctions(): { functions: BenchFunction[]; notes: string[] } {
  const entries: Record<FunctionName, string> = {
    webhook: ENTRIES.webhook,
    processor: ENTRIES.processor,
    admin:
      (ENTRIES as Partial<Record<FunctionName, string>>).admin ??
      join(PROJECT_ROOT, 'functions/admin/handler.ts'),
  };
  const functions: BenchFunction[] = [];
  const notes: string[] = [];
  for (const [name, entry] of Object.entries(entries) as [FunctionName, string][]) {
    if (existsSync(entry)) functions.push({ name, entry });
    else notes.push(`${name}: skipped, ${relative(PROJECT_ROOT, entry)} does not exist`);
  }
  return { functions, notes };
}

export const TABLE_NAME = 'hookgate-bench';
export const ACCOUNT = '000000000000';
export const REGION = 'us-east-1';

/** A queue URL on `base` (the fake's loopback URL, so the SQS client sends there). */
export function queueUrl(base: string, name: string): string {
  return `${base.replace(/\/+$/, '')}/${ACCOUNT}/${name}`;
}

/**
 * The environment each function gets from the stack (infra/functions.ts: `NODE_OPTIONS` and the
 * per-function variables), plus what Lambda itself sets.
 */
export function functionEnvironment(name: FunctionName, queueBase: string): Record<string, string> {
  const lambda = {
    NODE_OPTIONS: '--enable-source-maps',
    AWS_REGION: REGION,
    AWS_DEFAULT_REGION: REGION,
    AWS_LAMBDA_FUNCTION_NAME: `hookgate-bench-${name}`,
    AWS_LAMBDA_FUNCTION_MEMORY_SIZE: '1024',
    AWS_LAMBDA_FUNCTION_VERSION: '$LATEST',
    // Powertools counts a cold start (log field, ColdStart metric) only for on-demand environments.
    AWS_LAMBDA_INITIALIZATION_TYPE: 'on-demand',
    AWS_EXECUTION_ENV: 'AWS_Lambda_nodejs24.x',
    TZ: ':UTC',
    // Fake credentials: the SDK signs requests; nothing leaves the machine.
    AWS_ACCESS_KEY_ID: 'AKIDBENCHFAKE',
    AWS_SECRET_ACCESS_KEY: 'bench-fake-secret-key',
    AWS_SESSION_TOKEN: 'bench-fake-session-token',
    // Node 20 here; Lambda runs Node 24, where the SDK prints no such notice.
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
  };
  switch (name) {
    case 'webhook':
      return {
        ...lambda,
        TABLE_NAME,
        DELIVERIES_QUEUE_URL: queueUrl(queueBase, 'hookgate-deliveries.fifo'),
      };
    case 'processor':
      return { ...lambda, TABLE_NAME, TRIGGERS_QUEUE_URL: queueUrl(queueBase, 'hookgate-triggers.fifo') };
    case 'admin':
      return {
        ...lambda,
        TABLE_NAME,
        STAGE: 'bench',
        DELIVERIES_QUEUE_URL: queueUrl(queueBase, 'hookgate-deliveries.fifo'),
        ROTATION_GRACE_HOURS: '24',
      };
  }
}
