import type { Context } from 'aws-lambda';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createJsonLogger, injectLambdaContext, type JsonLoggerOptions } from '../../shared/aws/json-logger';
import { logLevelOf } from '../../shared/config';

const NOW = new Date('2026-03-01T12:00:00.000Z');
const context = { functionName: 'hookgate-admin', awsRequestId: 'req-1' } as Context;

function logger(options: JsonLoggerOptions = {}) {
  const lines: string[] = [];
  const log = createJsonLogger({ write: (line) => lines.push(line), now: () => NOW, ...options });
  return { log, lines, entries: () => lines.map((line) => JSON.parse(line)) };
}

afterEach(() => {
  vi.unstubAllEnvs();
});

describe('JsonLogger', () => {
  it('writes one JSON object a line: level, message, timestamp, service, then attributes', () => {
    const { log, lines, entries } = logger();
    log.info('audit', { audit: { action: 'integration.create' } }, { extra: 1 });
    expect(lines).toHaveLength(1);
    expect(lines[0]).not.toContain('\n');
    expect(entries()[0]).toEqual({
      level: 'INFO',
      message: 'audit',
      timestamp: NOW.toISOString(),
      service: 'hookgate',
      audit: { action: 'integration.create' },
      extra: 1,
    });
    expect(Object.keys(entries()[0]).slice(0, 4)).toEqual(['level', 'message', 'timestamp', 'service']);
  });

  it('writes to stdout by default', () => {
    const write = vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
    try {
      createJsonLogger({ now: () => NOW }).warn('careful');
      expect(write).toHaveBeenCalledTimes(1);
      const [text] = write.mock.calls[0] as [string];
      expect(text.endsWith('\n')).toBe(true);
      expect(JSON.parse(text)).toMatchObject({ level: 'WARN', message: 'careful', service: 'hookgate' });
    } finally {
      write.mockRestore();
    }
  });

  it('spells out an error: name, message, stack, cause and its own fields', () => {
    const { log, entries } = logger();
    const cause = new Error('socket hang up');
    const error = Object.assign(new TypeError('boom', { cause }), { code: 'E_BOOM' });
    log.error('unexpected error', error);
    const [entry] = entries();
    expect(entry).toMatchObject({
      level: 'ERROR',
      message: 'unexpected error',
      error: {
        name: 'TypeError',
        message: 'boom',
        code: 'E_BOOM',
        cause: { name: 'Error', message: 'socket hang up' },
      },
    });
    expect(entry.error.stack).toContain('TypeError: boom');
    expect(entry.error.cause.stack).toContain('socket hang up');
  });

  it('keeps appended keys until removed or reset; call attributes win over them', () => {
    const { log, entries } = logger();
    log.appendKeys({ integration: 'acme', deliveryId: 'd-1' });
    log.info('one', { deliveryId: 'd-2' });
    log.removeKeys(['deliveryId']);
    log.info('two');
    log.resetKeys();
    log.info('three');
    expect(entries().map(({ integration, deliveryId }) => ({ integration, deliveryId }))).toEqual([
      { integration: 'acme', deliveryId: 'd-2' },
      { integration: 'acme', deliveryId: undefined },
      { integration: undefined, deliveryId: undefined },
    ]);
  });

  it('never lets attributes replace the standard fields', () => {
    const { log, entries } = logger();
    log.appendKeys({ level: 'DEBUG' });
    log.warn('real', { message: 'fake', service: 'other', timestamp: 'never' });
    expect(entries()[0]).toMatchObject({
      level: 'WARN',
      message: 'real',
      service: 'hookgate',
      timestamp: NOW.toISOString(),
    });
  });

  it('never throws on values JSON cannot take', () => {
    const { log, entries } = logger();
    const loop: Record<string, unknown> = { name: 'loop' };
    loop.self = loop;
    expect(() => log.info('odd values', { loop, big: 10n })).not.toThrow();
    expect(entries()[0]).toMatchObject({ loop: { name: 'loop', self: '[Circular]' }, big: '10' });
  });

  it('logs INFO and above by default', () => {
    const { log, entries } = logger({ level: logLevelOf({ POWERTOOLS_LOG_LEVEL: '', LOG_LEVEL: '' }) });
    log.debug('hidden');
    log.info('shown');
    log.error('shown too');
    expect(entries().map((entry) => entry.level)).toEqual(['INFO', 'ERROR']);
  });

  it('takes its level from POWERTOOLS_LOG_LEVEL, then LOG_LEVEL, in any case', () => {
    // The admin function's config.ts reads the variables with logLevelOf.
    const verbose = logger({ level: logLevelOf({ POWERTOOLS_LOG_LEVEL: '', LOG_LEVEL: 'debug' }) });
    verbose.log.debug('shown');
    expect(verbose.entries().map((entry) => entry.level)).toEqual(['DEBUG']);

    const quiet = logger({ level: logLevelOf({ POWERTOOLS_LOG_LEVEL: 'ERROR', LOG_LEVEL: 'debug' }) });
    quiet.log.warn('hidden');
    quiet.log.error('shown');
    expect(quiet.entries().map((entry) => entry.level)).toEqual(['ERROR']);

    const silent = logger({ level: logLevelOf({ POWERTOOLS_LOG_LEVEL: 'SILENT', LOG_LEVEL: 'debug' }) });
    silent.log.error('hidden');
    expect(silent.lines).toEqual([]);
  });

  it('an explicit level wins over the environment; an unknown one means INFO', () => {
    vi.stubEnv('LOG_LEVEL', 'ERROR');
    const explicit = logger({ level: 'warn' });
    explicit.log.warn('shown');
    expect(explicit.lines).toHaveLength(1);
    const unknown = logger({ level: 'loud' });
    unknown.log.debug('hidden');
    unknown.log.info('shown');
    expect(unknown.entries().map((entry) => entry.level)).toEqual(['INFO']);
  });
});

describe('injectLambdaContext', () => {
  it('names the invocation in every line and starts each invocation without the last one’s keys', async () => {
    const { log, entries } = logger({ traceId: () => 'Root=1-abc' });
    const middleware = injectLambdaContext(log);
    const invoke = async (request: Context) => {
      await middleware.before?.({
        event: {},
        context: request,
        response: undefined,
        error: null,
        internal: {},
      });
    };

    await invoke(context);
    log.appendKeys({ integration: 'acme' });
    log.info('first');
    await invoke({ ...context, awsRequestId: 'req-2' });
    log.info('second');

    expect(entries()).toEqual([
      expect.objectContaining({
        message: 'first',
        cold_start: true,
        function_name: 'hookgate-admin',
        function_request_id: 'req-1',
        xray_trace_id: 'Root=1-abc',
        integration: 'acme',
      }),
      expect.objectContaining({ message: 'second', cold_start: false, function_request_id: 'req-2' }),
    ]);
    expect(entries()[1]).not.toHaveProperty('integration');
  });
});
