import { isRecord } from '../shared/is-record';
import type { Log, LogAttributes } from '../shared/observability';

/**
 * The handlers' Log for local mode: quiet. Warnings and errors become one readable line each
 * (with the delivery and integration the handler was working on); debug and info are dropped.
 */
export function consoleLog(write: (line: string) => void): Log {
  const keys: Record<string, unknown> = {};
  const line = (level: string, message: string, extra: (Error | LogAttributes)[]) => {
    const context = Object.entries(keys)
      .filter(([, value]) => value !== undefined)
      .map(([name, value]) => `${name}=${String(value)}`);
    const details = extra.map((item) => (item instanceof Error ? describeError(item) : attributes(item)));
    const where = context.length ? ` [${context.join(' ')}]` : '';
    write(
      `${level}: ${message}${where}${details
        .filter(Boolean)
        .map((d) => `: ${d}`)
        .join('')}`,
    );
  };
  return {
    debug() {},
    info() {},
    warn: (message, ...extra) => line('warning', message, extra),
    error: (message, ...extra) => line('error', message, extra),
    appendKeys(more) {
      Object.assign(keys, more);
    },
    removeKeys(names) {
      for (const name of names) delete keys[name];
    },
  };
}

/**
 * The admin handler's Log for local mode: `consoleLog(write)`, except that each audit line (one
 * per change the admin API makes) is handed to `onAudit`.
 */
export function adminConsoleLog(
  write: (line: string) => void,
  onAudit: (entry: Record<string, unknown>) => void,
): Log {
  const log = consoleLog(write);
  return {
    ...log,
    info(message, ...extra) {
      const entry = extra.find((item) => isRecord(item.audit))?.audit;
      if (message === 'audit' && isRecord(entry)) onAudit(entry);
    },
  };
}

/** `Name: message (cause: Name: message)`, following causes; no stack. */
export function describeError(error: Error): string {
  const parts = [`${error.name}: ${error.message}`];
  let cause = error.cause;
  while (cause instanceof Error && parts.length < 4) {
    parts.push(`cause ${cause.name}: ${cause.message}`);
    cause = cause.cause;
  }
  return parts.join(' <- ');
}

function attributes(extra: LogAttributes): string {
  return Object.entries(extra)
    .map(([name, value]) => `${name}=${typeof value === 'string' ? value : JSON.stringify(value)}`)
    .join(' ');
}
