import type { MiddlewareObj } from '@middy/core';
import type { Context } from 'aws-lambda';
import { type Log, type LogAttributes, SERVICE_NAME } from '../observability';

/** From the most to the least verbose; a level is logged when it ranks at or above the threshold. */
const LEVELS = ['TRACE', 'DEBUG', 'INFO', 'WARN', 'ERROR', 'CRITICAL', 'SILENT'];
const [DEBUG, INFO, WARN, ERROR] = [1, 2, 3, 4];

export interface JsonLoggerOptions {
  /** [`hookgate`] */
  service?: string;
  /** The lowest level written, in any case; unknown or none means `INFO`. */
  level?: string;
  /** The invocation's X-Ray trace id, asked as each invocation starts [none]. */
  traceId?: () => string | undefined;
  /** Where each JSON line goes [stdout]. */
  write?: (line: string) => void;
  now?: () => Date;
}

/** A Log that also takes the Lambda context (see `injectLambdaContext`). */
export interface JsonLogger extends Log {
  /** Drops every appended key (a new invocation starts clean). */
  resetKeys(): void;
  /** Names the invocation in every line that follows; the first one is the cold start. */
  addContext(context: Context): void;
}

/**
 * A structured JSON logger for functions that do not need Powertools: one JSON object a line
 * on stdout, in Powertools' layout (`level`, `message`, `timestamp`, `service`, the Lambda
 * context as `function_request_id` and friends, then appended keys and the call's attributes).
 * An Error becomes `error: {name, message, stack, cause, …its own fields}`. Logging never throws.
 */
export function createJsonLogger(options: JsonLoggerOptions = {}): JsonLogger {
  const level = (options.level ?? '').toUpperCase();
  const rank = LEVELS.indexOf(level);
  const threshold = rank < 0 ? INFO : rank;
  const service = options.service ?? SERVICE_NAME;
  const write = options.write ?? ((line) => process.stdout.write(`${line}\n`));
  const now = options.now ?? (() => new Date());
  let keys: LogAttributes = {};
  let context: LogAttributes = {};
  let coldStart = true;

  const logAt =
    (rank: number) =>
    (message: string, ...extra: Array<Error | LogAttributes>): void => {
      if (rank < threshold) return;
      const entry: LogAttributes = {
        level: LEVELS[rank],
        message,
        timestamp: now().toISOString(),
        service,
        ...context,
      };
      // Appended keys, then the call's attributes; neither replaces the fields above.
      const attributes: LogAttributes = { ...keys };
      for (const item of extra) {
        if (item instanceof Error) attributes.error = item;
        else Object.assign(attributes, item);
      }
      for (const [key, value] of Object.entries(attributes)) if (!(key in entry)) entry[key] = value;
      write(stringifyLogLine(entry));
    };

  return {
    debug: logAt(DEBUG),
    info: logAt(INFO),
    warn: logAt(WARN),
    error: logAt(ERROR),
    appendKeys(more) {
      Object.assign(keys, more);
    },
    removeKeys(names) {
      for (const name of names) delete keys[name];
    },
    resetKeys() {
      keys = {};
    },
    addContext(lambda) {
      context = {
        cold_start: coldStart,
        function_name: lambda.functionName,
        function_request_id: lambda.awsRequestId,
        xray_trace_id: options.traceId?.(),
      };
      coldStart = false;
    },
  };
}

/**
 * One log line as JSON, never throwing: an Error at any depth becomes `{name, message, stack,
 * cause, …its own fields}`, a BigInt a string, a repeated object `[Circular]`.
 */
export function stringifyLogLine(entry: LogAttributes): string {
  const seen = new WeakSet<object>();
  try {
    return JSON.stringify(entry, (_key, value: unknown) => {
      if (typeof value === 'bigint') return value.toString();
      if (typeof value !== 'object' || value === null) return value;
      if (seen.has(value)) return '[Circular]';
      seen.add(value);
      if (!(value instanceof Error)) return value;
      const { name, message, stack, cause, ...fields } = value;
      return { name, message, stack, cause, ...fields };
    });
  } catch (error) {
    return JSON.stringify({
      level: entry.level,
      message: entry.message,
      timestamp: entry.timestamp,
      error: String(error),
    });
  }
}

/**
 * middy middleware, like Powertools' `injectLambdaContext` with `resetKeys`: each invocation
 * starts without the keys the previous one appended, and its lines carry its request id.
 */
export function injectLambdaContext(logger: JsonLogger): MiddlewareObj {
  return {
    before: (request) => {
      logger.resetKeys();
      logger.addContext(request.context);
    },
  };
}
