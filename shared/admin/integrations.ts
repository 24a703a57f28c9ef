import { checkBaseUrl } from '../bitbucket/rest/address-policy';
import type { RepoRef } from '../bitbucket/rest/client';
import { parseCredentials } from '../bitbucket/rest/credentials';
import { BitbucketApiError } from '../bitbucket/rest/errors';
import { PROVIDERS, type Provider } from '../domain/events';
import { NotFoundError, ValidationError } from '../errors';
import { isRecord } from '../is-record';
import { secretIds } from '../secrets/secrets';
import type { WebhookSecretDocument } from '../secrets/webhook-secrets';
import { integrationItem } from '../store/dynamo-items';
import type { IntegrationRecord, IntegrationScope, ProjectRecord } from '../store/store';
import { validate } from '../validation';
import {
  type AdminContext,
  type AdminDeps,
  type AdminRequest,
  type AdminResult,
  activeIntegration,
  audit,
  checkItemFits,
  checkSecretFits,
  clientFor,
  currentSecretIn,
  etagOf,
  goneIntegration,
  integrationNameOf,
  newWebhookSecret,
  repoRefOf,
  STALE_DEFAULT_MS,
  webhookUrlOf,
  withLease,
} from './context';
import { ConflictError, PreconditionFailedError } from './errors';
import { CreateIntegrationSchema, PatchIntegrationSchema } from './schemas';
import {
  type HookRotation,
  type IntegrationCreatedAnswer,
  type IntegrationView,
  type ItemsAnswer,
  integrationView,
  type SecretRotatedAnswer,
} from './views';

/**
 * `POST /admin/integrations`. Checks that the item and the credentials fit their stores, then
 * writes the default marker (when asked for), the webhook secret and the credentials, then the
 * integration with a conditional put: until that last write nothing is visible. A failure on the
 * way removes the secrets it wrote unless the integration turns out to exist (a lost reply);
 * only a crash leaves them, for a retry to overwrite. A deleted name is revived.
 * Throws ValidationError, ConflictError (name or default taken).
 */
export async function createIntegration(
  deps: AdminDeps,
  context: AdminContext,
  { body }: AdminRequest,
): Promise<AdminResult> {
  const input = validate(CreateIntegrationSchema, body(), 'request');
  const baseUrl = checkBaseUrl(input.provider, input.baseUrl, deps.network);
  const credentials =
    input.credentials === undefined ? undefined : parseCredentials(input.credentials, input.provider);
  const credentialsText = credentials && checkSecretFits('the credentials', JSON.stringify(credentials));
  const { name, provider } = input;
  const webhookSecretId = secretIds.webhookSecret(deps.stage, name);
  const credentialsSecretId = secretIds.credentials(deps.stage, name);
  const recordAt = (at: string, version: number): IntegrationRecord => ({
    name,
    provider,
    scope: input.scope,
    labels: input.labels,
    description: input.description,
    baseUrl,
    sshKnownHosts: input.sshKnownHosts,
    webhookSecretId,
    credentialsSecretId: credentials && credentialsSecretId,
    credentialsKind: credentials?.kind,
    status: 'active',
    version,
    createdAt: at,
    updatedAt: at,
  });
  // Before the lease and every write: an item DynamoDB would refuse is the caller's to fix.
  checkItemFits('integration', integrationItem(recordAt(deps.now().toISOString(), 1)));

  const taken = () => new ConflictError(`an integration named "${name}" already exists`, 'name-taken');

  return withLease(deps, name, async () => {
    const existing = await deps.store.getIntegration(name);
    if (existing?.status === 'active') throw taken();
    const at = deps.now().toISOString();
    if (input.scope === 'default') await claimDefault(deps, provider, name, at);
    // A revived name continues its version, so an old ETag never matches again. Undefined
    // fields are not stored.
    const record = recordAt(at, (existing?.version ?? 0) + 1);
    let wroteSecrets = false;
    try {
      const secret = newWebhookSecret();
      wroteSecrets = true;
      await deps.secrets.put(
        webhookSecretId,
        JSON.stringify({ current: secret } satisfies WebhookSecretDocument),
      );
      if (credentialsText) await deps.secrets.put(credentialsSecretId, credentialsText);
      if (!(await deps.store.createIntegration(record))) {
        // Somebody else's integration holds the name (and now our secret): theirs to keep.
        wroteSecrets = false;
        throw taken();
      }
      audit(deps, context, existing ? 'integration.revive' : 'integration.create', `integration/${name}`, {
        provider,
        scope: record.scope,
        credentialKind: record.credentialsKind,
      });
      return {
        status: 201,
        headers: { etag: etagOf(record.version) },
        body: {
          integration: integrationView(context, record),
          webhookUrl: webhookUrlOf(context, name),
          webhookSecret: secret,
        } satisfies IntegrationCreatedAnswer,
      };
    } catch (error) {
      if (wroteSecrets) await removeOrphanSecrets(deps, record, [webhookSecretId, credentialsSecretId]);
      if (input.scope === 'default') await deps.store.releaseDefault(provider, name).catch(() => undefined);
      throw error;
    }
  });
}

/**
 * After a failed create: deletes the secrets it wrote, unless the integration was stored after
 * all (its reply was lost) or that cannot be told; then they stay, and a retry overwrites them.
 */
async function removeOrphanSecrets(deps: AdminDeps, record: IntegrationRecord, ids: string[]): Promise<void> {
  try {
    const stored = await deps.store.getIntegration(record.name);
    if (stored?.status === 'active' && stored.version === record.version) return;
    for (const id of ids) await deps.secrets.delete(id);
  } catch (error) {
    deps.log.warn('could not remove the secrets of a failed create; a retry overwrites them', {
      integration: record.name,
      error: (error as Error).message,
    });
  }
}

/** `GET /admin/integrations?label=&scope=&provider=&includeDeleted=`. */
export async function listIntegrations(
  deps: AdminDeps,
  context: AdminContext,
  { query }: AdminRequest,
): Promise<AdminResult> {
  const { provider, scope, label, includeDeleted } = query;
  if (provider !== undefined && !PROVIDERS.includes(provider as Provider)) {
    throw new ValidationError(`provider must be one of ${PROVIDERS.join(', ')}, not "${provider}"`);
  }
  // API Gateway joins a repeated query parameter with commas: every label given must be present.
  const labels = label?.split(',').filter(Boolean) ?? [];
  const items = (await deps.store.listIntegrations()).filter(
    (integration) =>
      (includeDeleted === 'true' || integration.status === 'active') &&
      (!provider || integration.provider === provider) &&
      (!scope || scopeMatches(integration.scope, scope)) &&
      labels.every((wanted) => integration.labels.includes(wanted)),
  );
  const answer: ItemsAnswer<IntegrationView> = {
    items: items.map((integration) => integrationView(context, integration)),
  };
  return { status: 200, body: answer };
}

/** `GET /admin/integrations/{name}`: no secret, only whether credentials exist and their kind. */
export async function getIntegration(
  deps: AdminDeps,
  context: AdminContext,
  { id: name }: AdminRequest,
): Promise<AdminResult> {
  const integration = await activeIntegration(deps, name);
  return {
    status: 200,
    headers: { etag: etagOf(integration.version) },
    body: integrationView(context, integration),
  };
}

/**
 * `PATCH /admin/integrations/{name}`: labels, description, scope, base URL, known hosts and
 * credentials (`null` removes them). Throws ValidationError (a name or provider change among
 * them), PreconditionFailedError when `If-Match` names another version, ConflictError when the
 * default is taken.
 */
export async function patchIntegration(
  deps: AdminDeps,
  context: AdminContext,
  request: AdminRequest,
): Promise<AdminResult> {
  const { id: name, headers } = request;
  const body = request.body();
  const ifMatch = headers['if-match'];
  const { name: newName, provider: newProvider, ...rest } = isRecord(body) ? body : {};
  if (newName !== undefined && newName !== name) {
    throw new ValidationError(
      `integration names are immutable: the webhook URL (/webhooks/${name}) derives from the name, and Bitbucket keeps calling it; create a new integration instead`,
    );
  }
  const patch = validate(PatchIntegrationSchema, isRecord(body) ? rest : body, 'request');
  const expected = parseIfMatch(ifMatch);

  return withLease(deps, name, async () => {
    const current = await activeIntegration(deps, name);
    if (newProvider !== undefined && newProvider !== current.provider) {
      throw new ValidationError(
        `the provider of an integration cannot change; create a new integration instead`,
      );
    }
    if (expected !== undefined && !expected.includes(current.version)) {
      throw new PreconditionFailedError(
        `integration "${name}" is at version ${current.version}, not ${ifMatch}; read it again and retry`,
      );
    }
    const at = deps.now().toISOString();
    // The parsed patch holds only the fields given: labels, description, scope and known hosts
    // replace theirs as they are.
    const { baseUrl, credentials: _credentials, ...fields } = patch;
    const next: IntegrationRecord = { ...current, ...fields, version: current.version + 1, updatedAt: at };
    if (baseUrl !== undefined) next.baseUrl = checkBaseUrl(current.provider, baseUrl, deps.network);
    const credentialsSecretId = secretIds.credentials(deps.stage, name);
    const credentials =
      patch.credentials === null || patch.credentials === undefined
        ? undefined
        : parseCredentials(patch.credentials, current.provider);
    if (patch.credentials === null) {
      delete next.credentialsSecretId;
      delete next.credentialsKind;
    } else if (credentials) {
      next.credentialsSecretId = credentialsSecretId;
      next.credentialsKind = credentials.kind;
    }
    const credentialsText = credentials && checkSecretFits('the credentials', JSON.stringify(credentials));
    checkItemFits('integration', integrationItem(next));
    const toDefault = next.scope === 'default' && current.scope !== 'default';
    const fromDefault = current.scope === 'default' && next.scope !== 'default';
    // Everything that can refuse comes before the first write.
    if (toDefault) await claimDefault(deps, current.provider, name, at);
    if (credentialsText) await deps.secrets.put(credentialsSecretId, credentialsText);
    if (!(await deps.store.replaceIntegration(next, current.version))) {
      if (toDefault) await deps.store.releaseDefault(current.provider, name).catch(() => undefined);
      throw new PreconditionFailedError(`integration "${name}" changed meanwhile; read it again and retry`);
    }
    if (fromDefault) await deps.store.releaseDefault(current.provider, name);
    if (patch.credentials === null) await deps.secrets.delete(credentialsSecretId);
    audit(deps, context, 'integration.update', `integration/${name}`, {
      fields: Object.keys(patch),
      version: next.version,
    });
    return { status: 200, headers: { etag: etagOf(next.version) }, body: integrationView(context, next) };
  });
}

/**
 * `DELETE /admin/integrations/{name}`: marks it deleted (its URL answers 410 from then on),
 * detaches its projects, deletes its webhook secret and credentials and gives up the default.
 * Deleting a deleted integration finishes that clean-up and answers 410.
 */
export async function deleteIntegration(
  deps: AdminDeps,
  context: AdminContext,
  { id: name }: AdminRequest,
): Promise<AdminResult> {
  return withLease(deps, name, async () => {
    const current = await deps.store.getIntegration(integrationNameOf(name));
    if (!current) throw new NotFoundError(`no integration named "${name}"`);
    const at = deps.now().toISOString();
    const alreadyDeleted = current.status === 'deleted';
    if (!alreadyDeleted) {
      // Its credentials go (below), so the record no longer names them.
      const deleted: IntegrationRecord = {
        ...current,
        credentialsSecretId: undefined,
        credentialsKind: undefined,
        status: 'deleted',
        deletedAt: at,
        version: current.version + 1,
        updatedAt: at,
      };
      if (!(await deps.store.replaceIntegration(deleted, current.version))) {
        throw new ConflictError(`integration "${name}" changed meanwhile; retry`);
      }
    }
    let detached = 0;
    for (const project of await deps.store.listProjects(name)) {
      if (await detachProject(deps, project, at)) detached += 1;
    }
    await deps.secrets.delete(secretIds.webhookSecret(deps.stage, name));
    await deps.secrets.delete(secretIds.credentials(deps.stage, name));
    if (current.scope === 'default') await deps.store.releaseDefault(current.provider, name);
    audit(deps, context, 'integration.delete', `integration/${name}`, { detachedProjects: detached });
    if (alreadyDeleted) throw goneIntegration(current);
    return { status: 204 };
  });
}

/**
 * `POST /admin/integrations/{name}/rotate-secret`: a new current secret; the previous one keeps
 * working until `previousValidUntil`. The hooks Hookgate manages get the new secret through the
 * REST API, and each project's outcome is reported.
 */
export async function rotateSecret(
  deps: AdminDeps,
  context: AdminContext,
  { id: name }: AdminRequest,
): Promise<AdminResult> {
  return withLease(deps, name, async () => {
    const integration = await activeIntegration(deps, name);
    // Everything that can fail before the secret changes, so a failed rotation changes nothing
    // (an answer lost after the change would hide the only copy of the new secret).
    const client = await clientFor(deps, integration);
    const connected = (await deps.store.listProjects(name)).filter(
      (project) => project.status !== 'detached',
    );
    const text = await deps.secrets.get(integration.webhookSecretId);
    const previous = text === undefined ? undefined : currentSecretIn(text);
    const now = deps.now();
    const previousValidUntil = new Date(now.getTime() + deps.rotationGraceHours * 3_600_000).toISOString();
    const secret = newWebhookSecret();
    const doc: WebhookSecretDocument = {
      current: secret,
      ...(previous ? { previous, previousValidUntil } : {}),
    };
    await deps.secrets.put(integration.webhookSecretId, JSON.stringify(doc));
    const updated = { ...integration, version: integration.version + 1, updatedAt: now.toISOString() };
    if (!(await deps.store.replaceIntegration(updated, integration.version))) {
      deps.log.warn('integration changed during a rotation; its version was not bumped', {
        integration: name,
      });
    }

    const url = webhookUrlOf(context, name);
    const projects: HookRotation[] = [];
    for (const project of connected) {
      const base = { projectId: project.id, repository: project.fullName };
      if (!client) {
        projects.push({
          ...base,
          status: 'skipped',
          reason: 'no credentials: set the new secret on the webhook by hand',
        });
        continue;
      }
      try {
        const hookIds = await updateHookSecret(client, repoRefOf(project), url, secret);
        projects.push(
          hookIds.length
            ? { ...base, status: 'updated', hookIds }
            : { ...base, status: 'not-found', reason: `no webhook with URL ${url}: run repair` },
        );
      } catch (error) {
        // Reported, never thrown: the new secret is already in force and must reach the caller.
        if (!(error instanceof BitbucketApiError)) deps.log.error('hook update failed', error as Error);
        projects.push({ ...base, status: 'failed', reason: (error as Error).message });
      }
    }
    audit(deps, context, 'integration.rotate-secret', `integration/${name}`, {
      previousValidUntil,
      hooks: projects.map((p) => `${p.projectId}:${p.status}`),
    });
    return {
      status: 200,
      headers: { etag: etagOf(updated.version) },
      body: {
        webhookSecret: secret,
        previousValidUntil: previous ? previousValidUntil : null,
        projects,
      } satisfies SecretRotatedAnswer,
    };
  });
}

/** Gives the hooks with our URL the new secret, keeping everything else. Returns their ids. */
async function updateHookSecret(
  client: NonNullable<Awaited<ReturnType<typeof clientFor>>>,
  ref: RepoRef,
  url: string,
  secret: string,
): Promise<string[]> {
  const ours = (await client.listHooks(ref)).filter((hook) => hook.url === url);
  for (const hook of ours) {
    await client.updateHook(ref, hook.id, {
      url: hook.url,
      events: hook.events,
      description: hook.description,
      active: hook.active,
      secret,
    });
  }
  return ours.map((hook) => hook.id);
}

/** Takes a project off its (deleted) integration: no mapping, status `detached`. False when it already was. */
async function detachProject(deps: AdminDeps, project: ProjectRecord, at: string): Promise<boolean> {
  await deps.store.removeRepositoryMapping(project.integration, project.repositoryId, project.id);
  let current: ProjectRecord | undefined = project;
  for (let attempt = 0; current && attempt < 3; attempt++) {
    if (current.status === 'detached') return false;
    const detached: ProjectRecord = { ...current, status: 'detached', detachedAt: at, updatedAt: at };
    if (await deps.store.replaceProject(detached, current.updatedAt)) return true;
    current = await deps.store.getProject(project.id);
  }
  return false;
}

/**
 * Takes a provider's default marker for `name`. A marker whose holder is not an active default
 * integration and that is older than a lease was left by a crash and is taken over.
 * Throws ConflictError when another integration is the default.
 */
async function claimDefault(deps: AdminDeps, provider: Provider, name: string, at: string): Promise<void> {
  if (await deps.store.claimDefault(provider, name, at)) return;
  const marker = await deps.store.getDefaultMarker(provider);
  if (!marker) {
    if (await deps.store.claimDefault(provider, name, at)) return;
  } else {
    const holder = await deps.store.getIntegration(marker.integration);
    const abandoned = holder?.status !== 'active' || holder.scope !== 'default';
    const old = Date.parse(at) - Date.parse(marker.claimedAt) > STALE_DEFAULT_MS;
    if (abandoned && old && (await deps.store.claimDefault(provider, name, at, marker.integration))) return;
  }
  const holder = marker ? `"${marker.integration}"` : 'another integration';
  throw new ConflictError(
    `${holder} is already the default integration for ${provider}: give this one a space scope, or change that one first`,
    'default-taken',
  );
}

function scopeMatches(scope: IntegrationScope, wanted: string): boolean {
  return wanted === 'default' ? scope === 'default' : scope !== 'default' && scope.space === wanted;
}

/** The versions an `If-Match` header accepts (`"3"`, `W/"3"`, `3`, lists); `*` or none: undefined. */
export function parseIfMatch(header: string | undefined): number[] | undefined {
  if (header === undefined || header.trim() === '*') return undefined;
  return header.split(',').map((tag) => {
    const digits = /^\s*(?:W\/)?"?(\d+)"?\s*$/.exec(tag)?.[1];
    return digits === undefined ? Number.NaN : Number(digits);
  });
}
