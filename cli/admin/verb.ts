import { PROVIDERS, type Provider } from '../../shared/domain/events';
import { isRecord } from '../../shared/is-record';
import type { AdminRequest, AdminResponse } from '../admin-client';
import { UsageError } from '../errors';
import { readJson } from '../evaluate';

export type OptionSpec = { type: 'string' | 'boolean'; multiple?: boolean; short?: string };
export type Values = Record<string, string | boolean | (string | boolean)[] | undefined>;

/** What a verb gets: its positional arguments by name, its option values and the endpoint. */
export interface Call {
  args: Record<string, string>;
  values: Values;
  endpoint: string;
}

/**
 * One `hookgate admin` verb: the request it sends and how it shows the answer. A verb's `render`
 * names the answer type of its route (`AdminResponse<ItemsAnswer<IntegrationView>>`).
 */
export interface Verb {
  args: readonly string[];
  options?: Record<string, OptionSpec>;
  request(call: Call): AdminRequest | Promise<AdminRequest>;
  render(response: AdminResponse, call: Call): string;
}

export const SCOPE_OPTIONS: Record<string, OptionSpec> = {
  default: { type: 'boolean' },
  space: { type: 'string' },
};

export const SECRET_NOTE =
  'The secret is shown once: put it on the Bitbucket webhook now (rotate-secret makes a new one).';

export function str(values: Values, name: string): string | undefined {
  const value = values[name];
  return typeof value === 'string' ? value : undefined;
}

export function list(values: Values, name: string): string[] {
  const value = values[name];
  return Array.isArray(value) ? value.filter((item): item is string => typeof item === 'string') : [];
}

export function nonEmpty(value: string | undefined): string | undefined {
  return value?.trim() ? value : undefined;
}

export function segment(value: string | undefined): string {
  return encodeURIComponent(value ?? '');
}

export function defined<K extends string, V>(key: K, value: V | undefined): Partial<Record<K, V>> {
  return value === undefined ? {} : ({ [key]: value } as Record<K, V>);
}

export function provider(values: Values, required: boolean): Provider | undefined {
  const value = str(values, 'provider');
  if (value === undefined) {
    if (required) throw new UsageError(`--provider is required: ${PROVIDERS.join(' or ')}`);
    return undefined;
  }
  if (!PROVIDERS.includes(value as Provider)) {
    throw new UsageError(`--provider must be one of ${PROVIDERS.join(', ')}, not "${value}"`);
  }
  return value as Provider;
}

export function scopeOf(values: Values): 'default' | { space: string } | undefined {
  const space = str(values, 'space');
  if (values.default && space !== undefined) throw new UsageError('--default and --space exclude each other');
  if (values.default) return 'default';
  return space === undefined ? undefined : { space };
}

export async function credentials(values: Values): Promise<Record<string, unknown> | undefined> {
  const file = str(values, 'credentials-file');
  return file ? readObject(file, 'credentials') : undefined;
}

export async function readObject(path: string, what: string): Promise<Record<string, unknown>> {
  const value = await readJson(path, what);
  if (!isRecord(value)) throw new UsageError(`${what} file ${path} must hold a JSON object`);
  return value;
}

/** Aligned `name  value` lines without a header. */
export function pairs(rows: readonly [string, string][]): string {
  const width = Math.max(...rows.map(([name]) => name.length));
  return rows.map(([name, value]) => `${name.padEnd(width)}  ${value}`).join('\n');
}
