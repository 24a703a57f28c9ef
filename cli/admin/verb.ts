import { DEFAULT_DATA_DIR } from '../../local/data-dir';
import { PROVIDERS, type Provider } from '../../shared/domain/events';
import { isRecord } from '../../shared/is-record';
import type { AdminRequest, AdminResponse } from '../admin-client';
import { UsageError } from '../errors';
import { readJson, readText } from '../files';

export type OptionSpec = { type: 'string' | 'boolean'; multiple?: boolean; short?: string };
export type Values = Record<string, string | boolean | (string | boolean)[] | undefined>;

/** What a verb gets: its positional arguments by name and its option values. */
export interface Call {
  args: Record<string, string>;
  values: Values;
}

/**
 * One `hookgate admin` verb: the request it sends and how it shows the answer. A verb's `render`
 * names the answer type of its route (`AdminResponse<ItemsAnswer<IntegrationView>>`).
 */
export interface Verb {
  /** The positional arguments, by name: `<name>` in the usage. */
  args: readonly string[];
  options?: Record<string, OptionSpec>;
  /** The options in the usage line, after the arguments; continuation lines start with a newline. */
  synopsis?: string;
  /** What the verb does and what its options take, for `--help`. */
  about?: readonly string[];
  /**
   * API field names and the CLI options that set them, so an error of the API speaks of
   * `--repository-id`, not `repositoryId`.
   */
  flags?: Record<string, string>;
  /** A question to confirm in a terminal before the request is sent (deletes); `--yes` skips it. */
  confirm?(call: Call): string;
  request(call: Call): AdminRequest | Promise<AdminRequest>;
  render(response: AdminResponse, call: Call): string;
}

/** The option that answers a verb's confirmation in advance. */
export const YES_OPTION: Record<string, OptionSpec> = { yes: { type: 'boolean', short: 'y' } };

/** Where the admin API is and how to authenticate: every verb, and `hookgate evaluate --project-id`. */
export const CONNECTION_OPTIONS: Record<string, OptionSpec> = {
  endpoint: { type: 'string' },
  token: { type: 'string' },
  auth: { type: 'string' },
  region: { type: 'string' },
  'data-dir': { type: 'string' },
};

/** The lines of the usage that say what the connection options take. */
export const CONNECTION_USAGE = `    --endpoint <url>   the admin API's base URL (env HOOKGATE_ENDPOINT; default: the local stack
                       of --data-dir, else http://127.0.0.1:3000)
    --token <token>    the local stack's admin token (env HOOKGATE_ADMIN_TOKEN; on a loopback
                       endpoint read from --data-dir when absent)
    --auth iam|token   default: token on loopback or when a token is given, else iam (SigV4 with
                       the default AWS credential chain)
    --region <region>  signing region (default: from an execute-api host, else AWS_REGION)
    --data-dir <dir>   the local stack's data folder (default ${DEFAULT_DATA_DIR})`;

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

/**
 * The lines of the `--ssh-known-hosts-file` file, as the API takes them: blank lines and
 * `# comments` left out; undefined when the option is not given.
 */
export async function knownHosts(values: Values): Promise<string[] | undefined> {
  const file = str(values, 'ssh-known-hosts-file');
  if (file === undefined) return undefined;
  const text = await readText(file, 'known hosts');
  return text
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line && !line.startsWith('#'));
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
