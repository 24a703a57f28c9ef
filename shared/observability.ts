/** The `service` every log line names. */
export const SERVICE_NAME = 'hookgate';

/** The CloudWatch namespace of every metric (the alarms name it too). */
export const METRICS_NAMESPACE = 'Hookgate';

export type LogAttributes = Record<string, unknown>;

/** The slice of a structured logger the shared code uses (Powertools Logger fits it). */
export interface Log {
  debug(message: string, ...extra: LogAttributes[]): void;
  info(message: string, ...extra: LogAttributes[]): void;
  warn(message: string, ...extra: [Error] | LogAttributes[]): void;
  error(message: string, ...extra: [Error] | LogAttributes[]): void;
  appendKeys(keys: Record<string, unknown>): void;
  removeKeys(keys: string[]): void;
}

/** Counters and timings the shared code emits (Powertools Metrics behind it on AWS). */
export interface Telemetry {
  count(name: string, value?: number, dimensions?: Record<string, string>): void;
  milliseconds(name: string, value: number): void;
}

export const silentLog: Log = {
  debug() {},
  info() {},
  warn() {},
  error() {},
  appendKeys() {},
  removeKeys() {},
};

export const noTelemetry: Telemetry = {
  count() {},
  milliseconds() {},
};
