import { randomUUID } from 'node:crypto';
import {
  type FakeChangedFile,
  FakeHttpServer,
  type FakeRequest,
  type FakeResponse,
  fakeSha,
  readBasic,
  readBearer,
  splitPublicKey,
} from './fake-server';

// Shaped after the Cloud OpenAPI spec (shared/reference/bbcloud-swagger.v3.json): the same
// paths, statuses and field names, errors as {type: 'error', error: {message, detail?}}.

export interface CloudHookState {
  uuid: string;
  url: string;
  description: string;
  active: boolean;
  events: string[];
  /** Stored, never returned: the API shows only `secret_set`. */
  secret: string | null;
  created_at: string;
}

export interface CloudDeployKeyState {
  id: number;
  /** `type base64`: Cloud keeps the comment apart. */
  key: string;
  comment: string;
  label: string;
}

export interface CloudPullRequestState {
  id: number;
  state: 'OPEN' | 'MERGED' | 'DECLINED' | 'SUPERSEDED';
  draft: boolean;
  sourceBranch: string;
  /** Full hash; listed abbreviated to 12 characters as Cloud does. */
  sourceCommit: string;
  /** The fork's uuid when the PR comes from a fork. */
  sourceRepositoryUuid?: string;
  destinationBranch: string;
}

export interface CloudRepositoryState {
  uuid: string;
  workspace: string;
  slug: string;
  mainbranch: string | null;
  hooks: Map<string, CloudHookState>;
  deployKeys: Map<number, CloudDeployKeyState>;
  pullRequests: CloudPullRequestState[];
  /** Full commit hashes. */
  commits: string[];
  /** Files per ref (branch name or full commit hash). */
  files: Map<string, Set<string>>;
  /** Branch and tag heads by name (full hashes). */
  branches: Map<string, string>;
  tags: Map<string, string>;
  /** Changed files by diffstat spec (`{head}..{base}`), as `/diffstat/{spec}` lists them. */
  diffs: Map<string, FakeChangedFile[]>;
}

export interface CloudRepositorySeed {
  workspace: string;
  slug: string;
  uuid?: string;
  mainbranch?: string | null;
  commits?: string[];
  files?: Record<string, string[]>;
  pullRequests?: Array<Partial<CloudPullRequestState> & { sourceBranch: string }>;
  branches?: Record<string, string>;
  tags?: Record<string, string>;
  diffs?: Record<string, Array<string | FakeChangedFile>>;
}

interface Principal {
  /** Undefined: not scope-limited (and no `x-oauth-scopes` header). */
  scopes?: string[];
  sendsScopeHeader: boolean;
}

interface CredentialState {
  scopes?: string[];
  revoked: boolean;
}

const KNOWN_EVENTS = new Set([
  'issue:comment_created',
  'issue:created',
  'issue:updated',
  'project:updated',
  'pullrequest:approved',
  'pullrequest:comment_created',
  'pullrequest:created',
  'pullrequest:fulfilled',
  'pullrequest:rejected',
  'pullrequest:unapproved',
  'pullrequest:updated',
  'repo:commit_status_created',
  'repo:commit_status_updated',
  'repo:created',
  'repo:deleted',
  'repo:fork',
  'repo:push',
  'repo:transfer',
  'repo:updated',
]);

const IMPLIED: Record<string, string[]> = {
  'repository:write': ['repository'],
  pullrequest: ['repository'],
  'pullrequest:write': ['pullrequest', 'repository', 'repository:write'],
};

/**
 * An in-memory Bitbucket Cloud: REST 2.0 under `/2.0`, the OAuth token endpoint under
 * `/site/oauth2/access_token`. Tests seed repositories and credentials, inspect the state,
 * revoke tokens and inject faults.
 */
export class FakeCloud extends FakeHttpServer {
  readonly repositories = new Map<string, CloudRepositoryState>();
  readonly bearerTokens = new Map<string, CredentialState>();
  readonly apiTokens = new Map<string, CredentialState & { token: string }>();
  readonly oauthConsumers = new Map<string, { secret: string; scopes: string[]; expiresIn: number }>();
  /** Access tokens handed out by the token endpoint. */
  readonly issuedTokens: string[] = [];
  /** Largest page the fake serves, whatever `pagelen` asks: small, so paging is exercised. */
  pageSize = 2;
  private nextKeyId = 1;

  constructor() {
    super((request) => this.route(request));
  }

  get apiUrl(): string {
    return `${this.url}/2.0`;
  }

  get tokenUrl(): string {
    return `${this.url}/site/oauth2/access_token`;
  }

  addRepository(seed: CloudRepositorySeed): CloudRepositoryState {
    const repo: CloudRepositoryState = {
      uuid: seed.uuid ?? `{${randomUUID()}}`,
      workspace: seed.workspace,
      slug: seed.slug,
      mainbranch: seed.mainbranch === undefined ? 'main' : seed.mainbranch,
      hooks: new Map(),
      deployKeys: new Map(),
      pullRequests: [],
      commits: seed.commits ?? [],
      files: new Map(Object.entries(seed.files ?? {}).map(([ref, paths]) => [ref, new Set(paths)])),
      branches: new Map(Object.entries(seed.branches ?? {})),
      tags: new Map(Object.entries(seed.tags ?? {})),
      diffs: new Map(
        Object.entries(seed.diffs ?? {}).map(([spec, files]) => [
          spec,
          files.map((file) => (typeof file === 'string' ? { path: file } : file)),
        ]),
      ),
    };
    for (const [index, pull] of (seed.pullRequests ?? []).entries()) {
      repo.pullRequests.push({
        id: index + 1,
        state: 'OPEN',
        draft: false,
        sourceCommit: fakeSha(`${pull.sourceBranch}-${index}`),
        destinationBranch: repo.mainbranch ?? 'main',
        ...pull,
      });
    }
    this.repositories.set(`${seed.workspace}/${seed.slug}`, repo);
    return repo;
  }

  /** A repository, project or workspace access token (Bearer); scopes in `x-oauth-scopes`. */
  addAccessToken(token: string, scopes: string[]): void {
    this.bearerTokens.set(token, { scopes, revoked: false });
  }

  /** An API token (Basic email:token). Without scopes it may do anything. */
  addApiToken(email: string, token: string, scopes?: string[]): void {
    this.apiTokens.set(email, { token, revoked: false, ...(scopes ? { scopes } : {}) });
  }

  addOAuthConsumer(clientId: string, secret: string, scopes: string[], expiresIn = 7200): void {
    this.oauthConsumers.set(clientId, { secret, scopes, expiresIn });
  }

  /** Revokes an access token, an issued OAuth token, or the API token of an email. */
  revoke(tokenOrEmail: string): void {
    const bearer = this.bearerTokens.get(tokenOrEmail);
    if (bearer) bearer.revoked = true;
    const api = this.apiTokens.get(tokenOrEmail);
    if (api) api.revoked = true;
  }

  repository(fullName: string): CloudRepositoryState {
    const repo = this.repositories.get(fullName);
    if (!repo) throw new Error(`no fake repository ${fullName}`);
    return repo;
  }

  private async route(request: FakeRequest): Promise<FakeResponse> {
    const [root, ...rest] = request.segments;
    if (root === 'site' && rest.join('/') === 'oauth2/access_token' && request.method === 'POST') {
      return this.issueToken(request);
    }
    if (root !== '2.0' || rest[0] !== 'repositories' || rest.length < 3) {
      return cloudError(404, 'Resource not found');
    }
    const principal = this.authenticate(request.headers.authorization);
    if (!principal) return cloudError(401, 'Token is invalid, expired, or not supported for this endpoint.');
    const response = await this.repositoryRoute(request, principal, rest.slice(1));
    if (principal.sendsScopeHeader && principal.scopes) {
      response.headers = { ...response.headers, 'x-oauth-scopes': principal.scopes.join(', ') };
    }
    return response;
  }

  private repositoryRoute(request: FakeRequest, principal: Principal, parts: string[]): FakeResponse {
    const [workspace, slug, resource, ...tail] = parts;
    const repo = this.repositories.get(`${workspace}/${slug}`);
    const { method } = request;
    const need = (...scopes: string[]) => lacking(principal, scopes);

    if (!resource && method === 'GET') {
      return (
        need('repository') ??
        (repo ? { status: 200, json: repositoryJson(repo, request.origin) } : notFound())
      );
    }
    if (resource === 'hooks') {
      const denied = need('webhook');
      if (denied) return denied;
      if (!repo) return notFound();
      if (tail.length === 0 && method === 'GET') {
        return this.page(
          request,
          [...repo.hooks.values()].map((h) => hookJson(h, repo)),
        );
      }
      if (tail.length === 0 && method === 'POST') return this.createHook(request, principal, repo);
      const hook = repo.hooks.get(tail[0] ?? '');
      if (!hook) return cloudError(404, 'Webhook not found');
      if (method === 'GET') return { status: 200, json: hookJson(hook, repo) };
      if (method === 'PUT') return this.updateHook(request, principal, repo, hook);
      if (method === 'DELETE') {
        repo.hooks.delete(hook.uuid);
        return { status: 204 };
      }
    }
    if (resource === 'deploy-keys') {
      // The spec's security for deploy keys asks for both scopes.
      const denied = need('repository', 'repository:admin');
      if (denied) return denied;
      if (!repo) return notFound();
      if (tail.length === 0 && method === 'GET') {
        return this.page(
          request,
          [...repo.deployKeys.values()].map((k) => deployKeyJson(k, repo)),
        );
      }
      if (tail.length === 0 && method === 'POST') return this.addDeployKey(request, repo);
      const key = repo.deployKeys.get(Number(tail[0]));
      if (!key) return cloudError(404, 'Deploy key not found');
      if (method === 'GET') return { status: 200, json: deployKeyJson(key, repo) };
      if (method === 'DELETE') {
        repo.deployKeys.delete(key.id);
        return { status: 204 };
      }
    }
    if (resource === 'pullrequests' && tail.length === 0 && method === 'GET') {
      const denied = need('pullrequest');
      if (denied) return denied;
      if (!repo) return notFound();
      return this.listPullRequests(request, repo);
    }
    if (resource === 'pullrequests' && tail.length === 1 && method === 'GET') {
      const denied = need('pullrequest');
      if (denied) return denied;
      if (!repo) return notFound();
      const pull = repo.pullRequests.find((p) => String(p.id) === tail[0]);
      return pull
        ? { status: 200, json: pullRequestJson(pull, repo) }
        : cloudError(404, `Pull request ${tail[0]} not found`);
    }
    if (
      resource === 'refs' &&
      tail.length === 1 &&
      (tail[0] === 'branches' || tail[0] === 'tags') &&
      method === 'GET'
    ) {
      const denied = need('repository');
      if (denied) return denied;
      if (!repo) return notFound();
      return this.listRefs(request, repo, tail[0]);
    }
    if (resource === 'commit' && tail.length === 1 && method === 'GET') {
      const denied = need('repository');
      if (denied) return denied;
      if (!repo) return notFound();
      const matches = repo.commits.filter((sha) => sha.startsWith(tail[0] ?? '-'));
      if (matches.length !== 1) return cloudError(404, `Commit not found: ${tail[0]}`);
      return { status: 200, json: { type: 'commit', hash: matches[0] } };
    }
    if (resource === 'diffstat' && tail.length === 1 && method === 'GET') {
      const denied = need('repository');
      if (denied) return denied;
      if (!repo) return notFound();
      const files = repo.diffs.get(tail[0] ?? '');
      if (!files) return cloudError(404, `Commit not found: ${tail[0]}`);
      return this.page(request, files.map(diffstatJson));
    }
    if (resource === 'src' && tail.length >= 2 && method === 'GET') {
      const denied = need('repository');
      if (denied) return denied;
      if (!repo) return notFound();
      return srcJson(request, repo, tail[0] ?? '', tail.slice(1).join('/'));
    }
    return cloudError(404, 'Resource not found');
  }

  private createHook(request: FakeRequest, principal: Principal, repo: CloudRepositoryState): FakeResponse {
    const body = request.body as Record<string, unknown> | undefined;
    const invalid = checkHookBody(body, true);
    if (invalid) return invalid;
    const events = body?.events as string[];
    const denied = lacking(principal, ['webhook', ...eventScopes(events)]);
    if (denied) return denied;
    const hook: CloudHookState = {
      uuid: `{${randomUUID()}}`,
      url: String(body?.url),
      description: typeof body?.description === 'string' ? body.description : '',
      active: body?.active !== false,
      events: [...new Set(events)],
      secret: typeof body?.secret === 'string' && body.secret ? body.secret : null,
      created_at: new Date().toISOString(),
    };
    repo.hooks.set(hook.uuid, hook);
    return { status: 201, json: hookJson(hook, repo) };
  }

  private updateHook(
    request: FakeRequest,
    principal: Principal,
    repo: CloudRepositoryState,
    hook: CloudHookState,
  ): FakeResponse {
    const body = request.body as Record<string, unknown> | undefined;
    const invalid = checkHookBody(body, false);
    if (invalid) return invalid;
    if (Array.isArray(body?.events)) {
      const denied = lacking(principal, eventScopes(body.events as string[]));
      if (denied) return denied;
      hook.events = [...new Set(body.events as string[])];
    }
    if (typeof body?.url === 'string') hook.url = body.url;
    if (typeof body?.description === 'string') hook.description = body.description;
    if (typeof body?.active === 'boolean') hook.active = body.active;
    // Leaving `secret` out keeps it; null or "" removes it.
    if (body && 'secret' in body)
      hook.secret = typeof body.secret === 'string' && body.secret ? body.secret : null;
    return { status: 200, json: hookJson(hook, repo) };
  }

  private addDeployKey(request: FakeRequest, repo: CloudRepositoryState): FakeResponse {
    const body = request.body as Record<string, unknown> | undefined;
    const parsed = typeof body?.key === 'string' ? splitPublicKey(body.key) : undefined;
    if (!parsed) return cloudError(400, 'Invalid SSH key');
    if ([...repo.deployKeys.values()].some((k) => k.key === parsed.body)) {
      return cloudError(400, 'Someone has already added that access key to this repository.');
    }
    const key: CloudDeployKeyState = {
      id: this.nextKeyId++,
      key: parsed.body,
      comment: parsed.comment,
      label: typeof body?.label === 'string' ? body.label : '',
    };
    repo.deployKeys.set(key.id, key);
    // The spec documents 200 for a created deploy key.
    return { status: 200, json: deployKeyJson(key, repo) };
  }

  private listPullRequests(request: FakeRequest, repo: CloudRepositoryState): FakeResponse {
    const states = request.query.getAll('state');
    const wanted = states.length ? states : ['OPEN'];
    let branch: string | undefined;
    const q = request.query.get('q');
    if (q) {
      const match = /^source\.branch\.name\s*=\s*"((?:[^"\\]|\\.)*)"$/.exec(q);
      if (!match) return cloudError(400, `Invalid query: ${q}`);
      branch = (match[1] ?? '').replace(/\\(.)/g, '$1');
    }
    const pulls = repo.pullRequests.filter(
      (p) => wanted.includes(p.state) && (branch === undefined || p.sourceBranch === branch),
    );
    return this.page(
      request,
      pulls.map((p) => pullRequestJson(p, repo)),
    );
  }

  /** `refs/branches` or `refs/tags`, filtered by `q=name = "…"` as BBQL does. */
  private listRefs(
    request: FakeRequest,
    repo: CloudRepositoryState,
    kind: 'branches' | 'tags',
  ): FakeResponse {
    let name: string | undefined;
    const q = request.query.get('q');
    if (q) {
      const match = /^name\s*=\s*"((?:[^"\\]|\\.)*)"$/.exec(q);
      if (!match) return cloudError(400, `Invalid query: ${q}`);
      name = (match[1] ?? '').replace(/\\(.)/g, '$1');
    }
    const heads = kind === 'branches' ? repo.branches : repo.tags;
    const refs = [...heads].filter(([ref]) => name === undefined || ref === name);
    return this.page(
      request,
      refs.map(([ref, hash]) => ({
        type: kind === 'branches' ? 'branch' : 'tag',
        name: ref,
        target: { type: 'commit', hash, message: `head of ${ref}\n` },
      })),
    );
  }

  private issueToken(request: FakeRequest): FakeResponse {
    const client = readBasic(request.headers.authorization);
    const consumer = client ? this.oauthConsumers.get(client[0]) : undefined;
    if (!client || !consumer || consumer.secret !== client[1]) {
      return {
        status: 400,
        json: { error: 'invalid_client', error_description: 'Invalid OAuth client credentials' },
      };
    }
    const form = request.body instanceof URLSearchParams ? request.body : new URLSearchParams();
    if (form.get('grant_type') !== 'client_credentials') {
      return {
        status: 400,
        json: { error: 'unsupported_grant_type', error_description: 'Unsupported grant type' },
      };
    }
    const token = `oauth-${randomUUID()}`;
    this.issuedTokens.push(token);
    this.bearerTokens.set(token, { scopes: consumer.scopes, revoked: false });
    return {
      status: 200,
      json: {
        access_token: token,
        scopes: consumer.scopes.join(' '),
        expires_in: consumer.expiresIn,
        token_type: 'bearer',
        state: 'client_credentials',
        refresh_token: randomUUID(),
      },
    };
  }

  private authenticate(header: string | undefined): Principal | undefined {
    const bearer = readBearer(header);
    if (bearer) {
      const state = this.bearerTokens.get(bearer);
      return state && !state.revoked
        ? { sendsScopeHeader: true, ...(state.scopes ? { scopes: state.scopes } : {}) }
        : undefined;
    }
    const basic = readBasic(header);
    if (basic) {
      const state = this.apiTokens.get(basic[0]);
      if (!state || state.revoked || state.token !== basic[1]) return undefined;
      return { sendsScopeHeader: false, ...(state.scopes ? { scopes: state.scopes } : {}) };
    }
    return undefined;
  }

  private page(request: FakeRequest, items: unknown[]): FakeResponse {
    const pagelen = Math.max(1, Math.min(Number(request.query.get('pagelen') ?? 10) || 10, this.pageSize));
    const page = Math.max(1, Number(request.query.get('page') ?? 1) || 1);
    const values = items.slice((page - 1) * pagelen, page * pagelen);
    const json: Record<string, unknown> = { pagelen, page, size: items.length, values };
    if (page * pagelen < items.length) {
      const next = new URL(request.path, request.origin);
      for (const [key, value] of request.query) next.searchParams.append(key, value);
      next.searchParams.set('page', String(page + 1));
      json.next = next.href;
    }
    return { status: 200, json };
  }
}

/** A diffstat entry as the spec's example shows it (links left out). */
function diffstatJson(file: FakeChangedFile) {
  const side = (path: string) => ({ path, escaped_path: path, type: 'commit_file' });
  return {
    type: 'diffstat',
    status: file.oldPath ? 'renamed' : 'modified',
    lines_added: 1,
    lines_removed: 1,
    old: side(file.oldPath ?? file.path),
    new: side(file.path),
  };
}

/** Starts a fake Bitbucket Cloud on a free loopback port. */
export async function startFakeCloud(): Promise<FakeCloud> {
  const fake = new FakeCloud();
  await fake.start();
  return fake;
}

function cloudError(status: number, message: string, detail?: unknown): FakeResponse {
  return { status, json: { type: 'error', error: { message, ...(detail ? { detail } : {}) } } };
}

function notFound(): FakeResponse {
  return cloudError(404, 'Repository not found');
}

function lacking(principal: Principal, required: string[]): FakeResponse | undefined {
  if (!principal.scopes) return undefined;
  const granted = new Set(principal.scopes);
  for (const scope of principal.scopes) for (const implied of IMPLIED[scope] ?? []) granted.add(implied);
  if (required.every((scope) => granted.has(scope))) return undefined;
  return cloudError(403, 'Your credentials lack one or more required privilege scopes.', {
    granted: principal.scopes,
    required,
  });
}

function eventScopes(events: string[]): string[] {
  return [
    ...new Set(events.map((event) => (event.startsWith('pullrequest:') ? 'pullrequest' : 'repository'))),
  ];
}

function checkHookBody(
  body: Record<string, unknown> | undefined,
  creating: boolean,
): FakeResponse | undefined {
  if (!body || typeof body !== 'object') return cloudError(400, 'Bad request');
  if (creating && typeof body.url !== 'string') return cloudError(400, 'url: This field is required.');
  if (creating && !Array.isArray(body.events)) return cloudError(400, 'events: This field is required.');
  if (Array.isArray(body.events)) {
    if (body.events.length === 0) return cloudError(400, 'events: At least one event is required.');
    const unknown = body.events.filter((e) => typeof e !== 'string' || !KNOWN_EVENTS.has(e));
    if (unknown.length) return cloudError(400, `events: Invalid event(s): ${unknown.join(', ')}`);
  }
  return undefined;
}

function repoSummary(repo: CloudRepositoryState) {
  return {
    type: 'repository',
    full_name: `${repo.workspace}/${repo.slug}`,
    name: repo.slug,
    uuid: repo.uuid,
  };
}

function repositoryJson(repo: CloudRepositoryState, origin: string) {
  const fullName = `${repo.workspace}/${repo.slug}`;
  return {
    ...repoSummary(repo),
    slug: repo.slug,
    is_private: true,
    scm: 'git',
    fork_policy: 'no_public_forks',
    mainbranch: repo.mainbranch ? { type: 'branch', name: repo.mainbranch } : null,
    links: {
      self: { href: `${origin}/2.0/repositories/${fullName}` },
      html: { href: `https://bitbucket.org/${fullName}` },
      clone: [
        { name: 'https', href: `https://someone@bitbucket.org/${fullName}.git` },
        { name: 'ssh', href: `git@bitbucket.org:${fullName}.git` },
      ],
    },
  };
}

function hookJson(hook: CloudHookState, repo: CloudRepositoryState) {
  return {
    type: 'webhook_subscription',
    uuid: hook.uuid,
    url: hook.url,
    description: hook.description,
    subject_type: 'repository',
    subject: repoSummary(repo),
    active: hook.active,
    created_at: hook.created_at,
    events: hook.events,
    secret_set: hook.secret !== null,
  };
}

function deployKeyJson(key: CloudDeployKeyState, repo: CloudRepositoryState) {
  return {
    type: 'deploy_key',
    id: key.id,
    key: key.key,
    label: key.label,
    comment: key.comment,
    created_on: '2026-01-01T00:00:00.000000+00:00',
    last_used: null,
    repository: repoSummary(repo),
  };
}

function pullRequestJson(pull: CloudPullRequestState, repo: CloudRepositoryState) {
  const destination = repoSummary(repo);
  return {
    type: 'pullrequest',
    id: pull.id,
    title: `PR ${pull.id}`,
    state: pull.state,
    draft: pull.draft,
    source: {
      branch: { name: pull.sourceBranch },
      commit: { type: 'commit', hash: pull.sourceCommit.slice(0, 12) },
      repository: pull.sourceRepositoryUuid
        ? { type: 'repository', full_name: `someone/${repo.slug}`, uuid: pull.sourceRepositoryUuid }
        : destination,
    },
    destination: {
      branch: { name: pull.destinationBranch },
      commit: { type: 'commit', hash: fakeSha(pull.destinationBranch).slice(0, 12) },
      repository: destination,
    },
  };
}

function srcJson(request: FakeRequest, repo: CloudRepositoryState, at: string, path: string): FakeResponse {
  const ref = resolveRef(repo, at);
  const files = ref ? repo.files.get(ref) : undefined;
  if (!ref || !files) return cloudError(404, `Commit not found: ${at}`);
  const hash = /^[0-9a-f]{40}$/.test(ref) ? ref : fakeSha(ref);
  if (files.has(path)) {
    if (request.query.get('format') !== 'meta') return { status: 200, text: `contents of ${path}` };
    return {
      status: 200,
      json: { type: 'commit_file', path, commit: { type: 'commit', hash }, attributes: [], size: 42 },
    };
  }
  if ([...files].some((file) => file.startsWith(`${path}/`))) {
    return { status: 200, json: { type: 'commit_directory', path, commit: { type: 'commit', hash } } };
  }
  return cloudError(404, `No such file or directory: ${path}`);
}

function resolveRef(repo: CloudRepositoryState, at: string): string | undefined {
  if (repo.files.has(at)) return at;
  if (/^[0-9a-f]{4,40}$/.test(at)) return [...repo.files.keys()].find((ref) => ref.startsWith(at));
  return undefined;
}
