import { stringifyLogLine } from '../../shared/aws/json-logger';
import type { Log } from '../../shared/observability';

export interface LogLine {
  level: string;
  message: string;
  /** The keys appended when the line was written. */
  keys: Record<string, unknown>;
  extra: unknown[];
}

export interface RecordingLog extends Log {
  lines: LogLine[];
  /** The `audit` attribute of every `audit` line, in order. */
  audits(): Record<string, unknown>[];
  /** Every line as a JSON logger prints it, one a line: an Error with its message, stack and cause. */
  printed(): string;
}

/** A Log that keeps every line with the keys in force, to assert what was written and what never was. */
export function recordingLog(): RecordingLog {
  const keys: Record<string, unknown> = {};
  const lines: LogLine[] = [];
  const write =
    (level: string) =>
    (message: string, ...extra: unknown[]) => {
      lines.push({ level, message, keys: { ...keys }, extra });
    };
  return {
    lines,
    audits: () =>
      lines
        .filter((line) => line.message === 'audit')
        .map((line) => (line.extra[0] as { audit: Record<string, unknown> }).audit),
    printed: () => lines.map((line) => stringifyLogLine({ ...line })).join('\n'),
    debug: write('debug'),
    info: write('info'),
    warn: write('warn'),
    error: write('error'),
    appendKeys(more) {
      Object.assign(keys, more);
    },
    removeKeys(names) {
      for (const name of names) delete keys[name];
    },
  };
}
