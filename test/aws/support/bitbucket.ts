import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { signBody } from '../../../shared/bitbucket/signature';
import { readFixtureBytes } from '../../support/fixtures';
import type { HttpResponse, StackHandle } from './aws-stack';

/** cloudbeers/temp, the repository of the Cloud push below (`cloud/jenkins-bbsource__updatePayload.json`). */
export const CLOUD_REPO = {
  fixture: 'cloud/jenkins-bbsource__updatePayload.json',
  eventKey: 'repo:push',
  fullName: 'cloudbeers/temp',
  repositoryId: '{708c9715-0ecc-4a5d-87ed-63c4ba48ea06}',
  defaultBranch: 'main',
  /** The head of main the push brings. */
  commit: 'e42fac24456e4a56f1b7f9358afc3070e3b7ddec',
} as const;

/** AMUNIZ/test-repos, the repository of the Data Center push (`server/jenkins-bbsource__pushPayload.json`). */
export const DC_REPO = {
  fixture: 'server/jenkins-bbsource__pushPayload.json',
  eventKey: 'repo:refs_changed',
  fullName: 'AMUNIZ/test-repos',
  repositoryId: '1',
  defaultBranch: 'main',
  baseUrl: 'https://bitbucket.example.com',
  commit: '9fdd7b96d3f5c276d0b9e0bf38c879eb112d889a',
} as const;

export type Repo = typeof CLOUD_REPO | typeof DC_REPO;

/** An integration made through the admin function, with one project connected by hand. */
export interface Connected {
  integration: string;
  /** The webhook secret the admin API showed once. */
  secret: string;
  projectId: string;
  repo: Repo;
}

/**
 * Creates integration `name` through the admin function (no credentials, scope its own space) and
 * connects `repo` by hand (repository id and default branch given). Throws when either call does
 * not answer 201.
 */
export async function connectIntegration(
  stack: Pick<StackHandle, 'admin'>,
  name: string,
  repo: Repo,
): Promise<Connected> {
  const dataCenter = repo === DC_REPO;
  const created = await stack.admin('POST', 'integrations', {
    name,
    provider: dataCenter ? 'bitbucket-data-center' : 'bitbucket-cloud',
    scope: { space: name },
    ...(dataCenter ? { baseUrl: DC_REPO.baseUrl } : {}),
  });
  expectStatus(created, 201, `create integration ${name}`);
  const connected = await stack.admin('POST', 'projects', {
    integration: name,
    repository: repo.fullName,
    repositoryId: repo.repositoryId,
    defaultBranch: repo.defaultBranch,
  });
  expectStatus(connected, 201, `connect ${repo.fullName} to ${name}`);
  const { webhookSecret } = created.json as { webhookSecret: string };
  const { project } = connected.json as { project: { id: string } };
  return { integration: name, secret: webhookSecret, projectId: project.id, repo };
}

export interface DeliverOptions {
  /** Default: a new UUID (Cloud `X-Request-UUID`, DC `X-Request-Id`). */
  deliveryId?: string;
  /** Cloud's `X-Hook-UUID`: which hook sent it (default: one fixed hook). */
  hookUuid?: string;
  /** Default: the repository's fixture, byte for byte. */
  body?: Buffer;
  /** Signs with this instead of the integration's secret. */
  secret?: string;
  /** Bitbucket Cloud's `X-Attempt-Number` on a retry. */
  attempt?: number;
}

/**
 * POSTs a signed delivery to `/webhooks/<integration>` with the headers Bitbucket Cloud or Data
 * Center sends, the fixture's exact bytes as the body.
 */
export async function deliver(
  stack: Pick<StackHandle, 'request'>,
  to: Connected,
  options: DeliverOptions = {},
): Promise<HttpResponse & { deliveryId: string }> {
  const deliveryId = options.deliveryId ?? randomUUID();
  const body = options.body ?? readFixtureBytes(to.repo.fixture);
  const signature = signBody(body, options.secret ?? to.secret);
  const headers: Record<string, string> =
    to.repo === DC_REPO
      ? {
          'content-type': 'application/json; charset=utf-8',
          'user-agent': 'Atlassian HttpClient 4.2.1 / Bitbucket-9.4.0 (9004000) / Default',
          'x-event-key': to.repo.eventKey,
          'x-request-id': deliveryId,
          'x-hub-signature': signature,
        }
      : {
          'content-type': 'application/json',
          'user-agent': 'Bitbucket-Webhooks/2.0',
          'x-event-key': to.repo.eventKey,
          'x-request-uuid': deliveryId,
          'x-hook-uuid': options.hookUuid ?? '{3b1c5a8e-7f0d-4a86-9b1e-2c4d6e8f0a12}',
          'x-attempt-number': String(options.attempt ?? 1),
          'x-hub-signature': signature,
        };
  const response = await stack.request({
    method: 'POST',
    path: `/webhooks/${encodeURIComponent(to.integration)}`,
    headers,
    body,
  });
  return { ...response, deliveryId };
}

const TRIGGER_SCHEMA = JSON.parse(
  readFileSync(fileURLToPath(new URL('../../../schemas/trigger-v1.schema.json', import.meta.url)), 'utf8'),
) as JsonSchema;

interface JsonSchema {
  type?: string | string[];
  required?: string[];
  properties?: Record<string, JsonSchema>;
  items?: JsonSchema;
  const?: unknown;
  enum?: unknown[];
}

/**
 * What `schemas/trigger-v1.schema.json` demands of a message that is missing: every `required`
 * property at every level, `const` and `enum` values. Empty when the message satisfies it. (A
 * check of the published schema without a JSON Schema validator among the dependencies.)
 */
export function triggerSchemaViolations(message: unknown): string[] {
  const violations: string[] = [];
  const walk = (schema: JsonSchema, value: unknown, at: string) => {
    if (schema.const !== undefined && value !== schema.const)
      violations.push(`${at}: must be ${String(schema.const)}`);
    if (schema.enum && !schema.enum.includes(value))
      violations.push(`${at}: must be one of ${schema.enum.join(', ')}`);
    if (Array.isArray(value) && schema.items) {
      for (const [index, item] of value.entries()) walk(schema.items, item, `${at}[${index}]`);
    }
    if (!value || typeof value !== 'object' || Array.isArray(value)) return;
    const object = value as Record<string, unknown>;
    for (const name of schema.required ?? [])
      if (!(name in object)) violations.push(`${at}.${name}: required`);
    for (const [name, child] of Object.entries(schema.properties ?? {})) {
      if (name in object && object[name] !== null) walk(child, object[name], `${at}.${name}`);
    }
  };
  walk(TRIGGER_SCHEMA, message, '$');
  return violations;
}

function expectStatus(response: HttpResponse, status: number, what: string): void {
  if (response.status !== status) {
    throw new Error(`${what}: expected ${status}, got ${response.status} ${response.body}`);
  }
}
