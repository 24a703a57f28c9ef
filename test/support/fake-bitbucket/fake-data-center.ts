import {
  type FakeChangedFile,
  FakeHttpServer,
  type FakeRequest,
  type FakeResponse,
  readBearer,
  splitPublicKey,
} from './fake-server';

// Shaped after the Data Center 9.2 OpenAPI spec (shared/reference/bbdc-swagger.v3.json): REST
// under /rest/api/{latest,1.0} and /rest/keys/{latest,1.0}, paged answers with start, limit,
// isLastPage and nextPageStart, errors as {errors: [{context, message, exceptionName}]}.

export type DcPermission = 'REPO_READ' | 'REPO_WRITE' | 'REPO_ADMIN';

const LEVEL: Record<DcPermission, number> = { REPO_READ: 1, REPO_WRITE: 2, REPO_ADMIN: 3 };

export interface DcHookState {
  id: number;
  name: string;
  url: string;
  active: boolean;
  events: string[];
  /** What DC keeps in `configuration` (the secret among it). */
  configuration: Record<string, string>;
  sslVerificationRequired: boolean;
  createdDate: number;
  updatedDate: number;
}

export interface DcAccessKeyState {
  id: number;
  text: string;
  label: string;
  permission: 'REPO_READ' | 'REPO_WRITE';
}

export interface DcPullRequestState {
  id: number;
  state: 'OPEN' | 'MERGED' | 'DECLINED';
  draft: boolean;
  /** Branch name (without refs/heads/). */
  fromBranch: string;
  fromCommit: string;
  /** The source repository id when the PR comes from a fork. */
  fromRepositoryId?: number;
  toBranch: string;
}

export interface DcRepositoryState {
  id: number;
  projectKey: string;
  slug: string;
  defaultBranch: string;
  hooks: Map<number, DcHookState>;
  accessKeys: Map<number, DcAccessKeyState>;
  pullRequests: DcPullRequestState[];
  commits: string[];
  /** Files per ref (branch name or full commit hash). */
  files: Map<string, Map<string, string>>;
  /** Branch and tag heads by name (full hashes). */
  branches: Map<string, string>;
  tags: Map<string, string>;
  /** Changed files by `{from}..{to}`, as `compare/changes?from=…&to=…` lists them. */
  diffs: Map<string, FakeChangedFile[]>;
}

export interface DcRepositorySeed {
  projectKey: string;
  slug: string;
  id?: number;
  defaultBranch?: string;
  commits?: string[];
  files?: Record<string, Record<string, string>>;
  pullRequests?: Array<Partial<DcPullRequestState> & { fromBranch: string; fromCommit: string }>;
  branches?: Record<string, string>;
  tags?: Record<string, string>;
  diffs?: Record<string, Array<string | FakeChangedFile>>;
}

const KNOWN_EVENTS = new Set([
  'repo:refs_changed',
  'repo:modified',
  'repo:forked',
  'repo:comment:added',
  'pr:opened',
  'pr:from_ref_updated',
  'pr:to_ref_updated',
  'pr:modified',
  'pr:merged',
  'pr:declined',
  'pr:deleted',
  'pr:comment:added',
  'pr:reviewer:approved',
  'mirror:repo_synchronized',
]);

const NOT_AUTHENTICATED = {
  message: 'Authentication failed. Please check your credentials and try again.',
  exceptionName: 'com.atlassian.bitbucket.auth.IncorrectPasswordAuthenticationException',
};

/**
 * An in-memory Bitbucket Data Center. Tokens carry one repository permission for every
 * repository; lacking it answers 401 with an AuthorisationException, as DC does.
 */
export class FakeDataCenter extends FakeHttpServer {
  readonly repositories = new Map<string, DcRepositoryState>();
  readonly tokens = new Map<string, { permission: DcPermission; revoked: boolean }>();
  /** Largest page the fake serves, whatever `limit` asks. */
  pageSize = 2;
  private nextId = 1;
  private nextRepositoryId = 100;

  constructor() {
    super((request) => this.route(request));
  }

  addRepository(seed: DcRepositorySeed): DcRepositoryState {
    const repo: DcRepositoryState = {
      id: seed.id ?? this.nextRepositoryId++,
      projectKey: seed.projectKey,
      slug: seed.slug,
      defaultBranch: seed.defaultBranch ?? 'main',
      hooks: new Map(),
      accessKeys: new Map(),
      pullRequests: [],
      commits: seed.commits ?? [],
      files: new Map(
        Object.entries(seed.files ?? {}).map(([ref, files]) => [ref, new Map(Object.entries(files))]),
      ),
      branches: new Map(Object.entries(seed.branches ?? {})),
      tags: new Map(Object.entries(seed.tags ?? {})),
      diffs: new Map(
        Object.entries(seed.diffs ?? {}).map(([range, files]) => [
          range,
          files.map((file) => (typeof file === 'string' ? { path: file } : file)),
        ]),
      ),
    };
    for (const [index, pull] of (seed.pullRequests ?? []).entries()) {
      repo.pullRequests.push({
        id: index + 1,
        state: 'OPEN',
        draft: false,
        toBranch: repo.defaultBranch,
        ...pull,
      });
    }
    this.repositories.set(`${seed.projectKey}/${seed.slug}`, repo);
    return repo;
  }

  /** An HTTP access token with one repository permission. */
  addToken(token: string, permission: DcPermission): void {
    this.tokens.set(token, { permission, revoked: false });
  }

  revoke(token: string): void {
    const state = this.tokens.get(token);
    if (state) state.revoked = true;
  }

  repository(fullName: string): DcRepositoryState {
    const repo = this.repositories.get(fullName);
    if (!repo) throw new Error(`no fake repository ${fullName}`);
    return repo;
  }

  private route(request: FakeRequest): FakeResponse {
    const [rest, api, version, projects, projectKey, repos, slug, resource, ...tail] = request.segments;
    const known =
      rest === 'rest' && (api === 'api' || api === 'keys') && (version === 'latest' || version === '1.0');
    if (!known || projects !== 'projects' || repos !== 'repos' || !projectKey || !slug) {
      return dcError(404, 'Not found', 'com.sun.jersey.api.NotFoundException');
    }
    const token = readBearer(request.headers.authorization);
    const state = token ? this.tokens.get(token) : undefined;
    if (!state || state.revoked)
      return { status: 401, json: { errors: [{ context: null, ...NOT_AUTHENTICATED }] } };
    const repo = this.repositories.get(`${projectKey}/${slug}`);
    const need = (permission: DcPermission): FakeResponse | undefined => {
      if (LEVEL[state.permission] >= LEVEL[permission]) return undefined;
      return dcError(
        401,
        `You are not permitted to access this resource`,
        'com.atlassian.bitbucket.AuthorisationException',
      );
    };
    const noRepo = () =>
      dcError(
        404,
        `Repository ${projectKey}/${slug} does not exist.`,
        'com.atlassian.bitbucket.repository.NoSuchRepositoryException',
      );
    const { method } = request;

    if (api === 'keys') {
      if (resource !== 'ssh') return dcError(404, 'Not found', 'com.sun.jersey.api.NotFoundException');
      const denied = need('REPO_ADMIN');
      if (denied) return denied;
      if (!repo) return noRepo();
      if (tail.length === 0 && method === 'GET')
        return this.page(
          request,
          [...repo.accessKeys.values()].map((k) => accessKeyJson(k, repo)),
        );
      if (tail.length === 0 && method === 'POST') return this.addAccessKey(request, repo);
      const key = repo.accessKeys.get(Number(tail[0]));
      if (method === 'DELETE') {
        // DC answers 204 whether or not the key was there.
        if (key) repo.accessKeys.delete(key.id);
        return { status: 204 };
      }
      if (method === 'GET') {
        return key
          ? { status: 200, json: accessKeyJson(key, repo) }
          : dcError(404, 'No such access key', 'com.atlassian.bitbucket.ssh.NoSuchAccessKeyException');
      }
    }

    if (!resource && method === 'GET')
      return (
        need('REPO_READ') ?? (repo ? { status: 200, json: repositoryJson(repo, request.origin) } : noRepo())
      );
    if (resource === 'default-branch' && method === 'GET') {
      return (
        need('REPO_READ') ??
        (repo
          ? {
              status: 200,
              json: { id: `refs/heads/${repo.defaultBranch}`, displayId: repo.defaultBranch, type: 'BRANCH' },
            }
          : noRepo())
      );
    }
    if (resource === 'webhooks') {
      const denied = need('REPO_ADMIN');
      if (denied) return denied;
      if (!repo) return noRepo();
      if (tail.length === 0 && method === 'GET')
        return this.page(request, [...repo.hooks.values()].map(hookJson));
      if (tail.length === 0 && method === 'POST') return this.createHook(request, repo);
      const hook = repo.hooks.get(Number(tail[0]));
      if (!hook)
        return dcError(
          404,
          `No webhook with id ${tail[0]} exists`,
          'com.atlassian.webhooks.NoSuchWebhookException',
        );
      if (method === 'GET') return { status: 200, json: hookJson(hook) };
      if (method === 'PUT') return this.updateHook(request, hook);
      if (method === 'DELETE') {
        repo.hooks.delete(hook.id);
        return { status: 204 };
      }
    }
    if (resource === 'pull-requests' && tail.length === 0 && method === 'GET') {
      return need('REPO_READ') ?? (repo ? this.listPullRequests(request, repo) : noRepo());
    }
    if (resource === 'pull-requests' && tail.length === 1 && method === 'GET') {
      const denied = need('REPO_READ');
      if (denied) return denied;
      if (!repo) return noRepo();
      const pull = repo.pullRequests.find((p) => String(p.id) === tail[0]);
      return pull
        ? { status: 200, json: pullRequestJson(pull, repo) }
        : dcError(
            404,
            `No pull request exists with ID ${tail[0]} for this repository`,
            'com.atlassian.bitbucket.pull.NoSuchPullRequestException',
          );
    }
    if ((resource === 'branches' || resource === 'tags') && tail.length === 0 && method === 'GET') {
      const denied = need('REPO_READ');
      if (denied) return denied;
      if (!repo) return noRepo();
      // `filterText` matches anywhere in the name, as DC does; exact names are not boosted here.
      const text = request.query.get('filterText') ?? '';
      const branch = resource === 'branches';
      const heads = [...(branch ? repo.branches : repo.tags)].filter(([name]) => name.includes(text));
      return this.page(
        request,
        heads.map(([name, commit]) => ({
          id: `refs/${branch ? 'heads' : 'tags'}/${name}`,
          displayId: name,
          type: branch ? 'BRANCH' : 'TAG',
          latestCommit: commit,
          latestChangeset: commit,
          // An annotated tag's own object; a build wants the commit it points at.
          ...(branch ? { isDefault: name === repo.defaultBranch } : { hash: '7'.repeat(40) }),
        })),
      );
    }
    if (resource === 'commits' && tail.length === 1 && method === 'GET') {
      const denied = need('REPO_READ');
      if (denied) return denied;
      if (!repo) return noRepo();
      const matches = repo.commits.filter((sha) => sha.startsWith(tail[0] ?? '-'));
      if (matches.length !== 1 || !matches[0]) {
        return dcError(
          404,
          `Commit '${tail[0]}' does not exist in repository '${slug}'.`,
          'com.atlassian.bitbucket.commit.NoSuchCommitException',
        );
      }
      return {
        status: 200,
        json: { id: matches[0], displayId: matches[0].slice(0, 11), message: 'a commit', parents: [] },
      };
    }
    if (resource === 'compare' && tail.length === 1 && tail[0] === 'changes' && method === 'GET') {
      const denied = need('REPO_READ');
      if (denied) return denied;
      if (!repo) return noRepo();
      // Either side left out is the default branch, as DC documents.
      const from = request.query.get('from') || repo.defaultBranch;
      const to = request.query.get('to') || repo.defaultBranch;
      const files = repo.diffs.get(`${from}..${to}`);
      if (!files) {
        return dcError(
          404,
          `Commit '${from}' does not exist in repository '${slug}'.`,
          'com.atlassian.bitbucket.commit.NoSuchCommitException',
        );
      }
      return this.page(request, files.map(changeJson));
    }
    if (resource === 'raw' && tail.length > 0 && method === 'GET') {
      const denied = need('REPO_READ');
      if (denied) return denied;
      if (!repo) return noRepo();
      const at = request.query.get('at') ?? repo.defaultBranch;
      const files = repo.files.get(at.replace(/^refs\/heads\//, ''));
      const path = tail.join('/');
      const content = files?.get(path);
      if (content === undefined) {
        return dcError(
          404,
          `The path "${path}" does not exist at revision "${at}"`,
          'com.atlassian.bitbucket.content.NoSuchPathException',
        );
      }
      return { status: 200, text: content };
    }
    return dcError(404, 'Not found', 'com.sun.jersey.api.NotFoundException');
  }

  private createHook(request: FakeRequest, repo: DcRepositoryState): FakeResponse {
    const body = request.body as Record<string, unknown> | undefined;
    const invalid = checkHookBody(body);
    if (invalid) return invalid;
    const configuration = (body?.configuration ?? {}) as Record<string, string>;
    const now = Date.now();
    const hook: DcHookState = {
      id: this.nextId++,
      name: String(body?.name),
      url: String(body?.url),
      active: body?.active !== false,
      events: [...new Set(body?.events as string[])],
      configuration: { ...configuration },
      sslVerificationRequired: body?.sslVerificationRequired !== false,
      createdDate: now,
      updatedDate: now,
    };
    repo.hooks.set(hook.id, hook);
    // The spec documents 200 for a created webhook.
    return { status: 200, json: hookJson(hook) };
  }

  private updateHook(request: FakeRequest, hook: DcHookState): FakeResponse {
    const body = request.body as Record<string, unknown> | undefined;
    const invalid = checkHookBody(body);
    if (invalid) return invalid;
    hook.name = String(body?.name);
    hook.url = String(body?.url);
    hook.events = [...new Set(body?.events as string[])];
    if (typeof body?.active === 'boolean') hook.active = body.active;
    // Assumed: a PUT without `configuration` keeps the current one.
    if (body?.configuration) hook.configuration = { ...(body.configuration as Record<string, string>) };
    hook.updatedDate = Date.now();
    return { status: 200, json: hookJson(hook) };
  }

  private addAccessKey(request: FakeRequest, repo: DcRepositoryState): FakeResponse {
    const body = request.body as
      | { key?: { text?: unknown; label?: unknown }; permission?: unknown }
      | undefined;
    const text = typeof body?.key?.text === 'string' ? body.key.text : '';
    const parsed = splitPublicKey(text);
    if (!parsed)
      return dcError(
        400,
        'The SSH key is invalid',
        'com.atlassian.bitbucket.ssh.InvalidSshKeyException',
        'text',
      );
    if (body?.permission !== 'REPO_READ' && body?.permission !== 'REPO_WRITE') {
      return dcError(
        400,
        'Permission must be REPO_READ or REPO_WRITE',
        'com.atlassian.bitbucket.validation.ArgumentValidationException',
        'permission',
      );
    }
    if ([...repo.accessKeys.values()].some((k) => splitPublicKey(k.text)?.body === parsed.body)) {
      return dcError(
        409,
        'This key has already been added to this repository',
        'com.atlassian.bitbucket.ssh.DuplicateAccessKeyException',
      );
    }
    const key: DcAccessKeyState = {
      id: this.nextId++,
      text: text.trim(),
      label: typeof body.key?.label === 'string' ? body.key.label : parsed.comment,
      permission: body.permission,
    };
    repo.accessKeys.set(key.id, key);
    return { status: 201, json: accessKeyJson(key, repo) };
  }

  private listPullRequests(request: FakeRequest, repo: DcRepositoryState): FakeResponse {
    const at = request.query.get('at');
    const direction = request.query.get('direction') ?? 'INCOMING';
    const state = request.query.get('state') ?? 'OPEN';
    const pulls = repo.pullRequests.filter((pull) => {
      if (state !== 'ALL' && pull.state !== state) return false;
      if (!at) return true;
      // OUTGOING lists what leaves this repository: a fork's PR into it is not among them.
      if (direction === 'OUTGOING')
        return pull.fromRepositoryId === undefined && `refs/heads/${pull.fromBranch}` === at;
      return `refs/heads/${pull.toBranch}` === at;
    });
    return this.page(
      request,
      pulls.map((pull) => pullRequestJson(pull, repo)),
    );
  }

  private page(request: FakeRequest, items: unknown[]): FakeResponse {
    const limit = Math.max(1, Math.min(Number(request.query.get('limit') ?? 25) || 25, this.pageSize));
    const start = Math.max(0, Number(request.query.get('start') ?? 0) || 0);
    const values = items.slice(start, start + limit);
    const isLastPage = start + limit >= items.length;
    return {
      status: 200,
      json: {
        size: values.length,
        limit,
        isLastPage,
        values,
        start,
        ...(isLastPage ? {} : { nextPageStart: start + limit }),
      },
    };
  }
}

/** Starts a fake Bitbucket Data Center on a free loopback port (base URL: `fake.url`). */
export async function startFakeDataCenter(): Promise<FakeDataCenter> {
  const fake = new FakeDataCenter();
  await fake.start();
  return fake;
}

function dcError(
  status: number,
  message: string,
  exceptionName: string,
  context: string | null = null,
): FakeResponse {
  return { status, json: { errors: [{ context, message, exceptionName }] } };
}

function checkHookBody(body: Record<string, unknown> | undefined): FakeResponse | undefined {
  const invalid = (message: string, context: string) =>
    dcError(400, message, 'com.atlassian.bitbucket.validation.ArgumentValidationException', context);
  if (!body || typeof body !== 'object') return invalid('A webhook is required', 'webhook');
  if (typeof body.name !== 'string' || !body.name) return invalid('The name is required', 'name');
  if (typeof body.url !== 'string' || !body.url) return invalid('The URL is required', 'url');
  if (!Array.isArray(body.events) || body.events.length === 0)
    return invalid('At least one event is required', 'events');
  const unknown = body.events.filter((e) => typeof e !== 'string' || !KNOWN_EVENTS.has(e));
  if (unknown.length) return invalid(`Unknown event(s): ${unknown.join(', ')}`, 'events');
  const configuration = body.configuration as Record<string, unknown> | undefined;
  // What argo-events ran into: an empty secret makes DC fail with a 500.
  if (configuration && configuration.secret === '') {
    return dcError(500, 'An unexpected error occurred', 'java.lang.IllegalArgumentException');
  }
  return undefined;
}

function repoSummary(repo: DcRepositoryState) {
  return { id: repo.id, slug: repo.slug, name: repo.slug, project: { key: repo.projectKey } };
}

function repositoryJson(repo: DcRepositoryState, origin: string) {
  const lower = `${repo.projectKey.toLowerCase()}/${repo.slug}`;
  return {
    ...repoSummary(repo),
    scmId: 'git',
    state: 'AVAILABLE',
    forkable: true,
    public: false,
    links: {
      clone: [
        { href: `ssh://git@bitbucket.example.com:7999/${lower}.git`, name: 'ssh' },
        { href: `https://bitbucket.example.com/scm/${lower}.git`, name: 'http' },
      ],
      self: [{ href: `${origin}/projects/${repo.projectKey}/repos/${repo.slug}/browse` }],
    },
  };
}

function hookJson(hook: DcHookState) {
  return {
    id: hook.id,
    name: hook.name,
    createdDate: hook.createdDate,
    updatedDate: hook.updatedDate,
    events: hook.events,
    configuration: hook.configuration,
    url: hook.url,
    active: hook.active,
    scopeType: 'repository',
    sslVerificationRequired: hook.sslVerificationRequired,
  };
}

function accessKeyJson(key: DcAccessKeyState, repo: DcRepositoryState) {
  return {
    key: { id: key.id, text: key.text, label: key.label, algorithmType: key.text.split(' ')[0] },
    repository: repoSummary(repo),
    permission: key.permission,
  };
}

function pullRequestJson(pull: DcPullRequestState, repo: DcRepositoryState) {
  const fromRepository = pull.fromRepositoryId
    ? { id: pull.fromRepositoryId, slug: repo.slug, project: { key: `~SOMEONE` } }
    : repoSummary(repo);
  return {
    id: pull.id,
    version: 0,
    title: `PR ${pull.id}`,
    state: pull.state,
    open: pull.state === 'OPEN',
    closed: pull.state !== 'OPEN',
    draft: pull.draft,
    fromRef: {
      id: `refs/heads/${pull.fromBranch}`,
      displayId: pull.fromBranch,
      latestCommit: pull.fromCommit,
      type: 'BRANCH',
      repository: fromRepository,
    },
    toRef: {
      id: `refs/heads/${pull.toBranch}`,
      displayId: pull.toBranch,
      latestCommit: '0'.repeat(40),
      type: 'BRANCH',
      repository: repoSummary(repo),
    },
  };
}

/** A RestChange: paths as components and `toString`, a rename's old path as `srcPath`. */
function changeJson(file: FakeChangedFile) {
  const path = (text: string) => {
    const components = text.split('/');
    return {
      components,
      parent: components.slice(0, -1).join('/'),
      name: components.at(-1),
      extension: text.includes('.') ? text.split('.').at(-1) : undefined,
      toString: text,
    };
  };
  return {
    contentId: '0'.repeat(40),
    type: file.oldPath ? 'MOVE' : 'MODIFY',
    nodeType: 'FILE',
    path: path(file.path),
    ...(file.oldPath ? { srcPath: path(file.oldPath) } : {}),
    percentUnchanged: -1,
  };
}
