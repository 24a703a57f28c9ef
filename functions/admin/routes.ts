import type { AdminContext, AdminDeps, AdminResult } from '../../shared/admin/context';
import { evaluate, getDelivery, listDeliveries, replayDelivery } from '../../shared/admin/deliveries';
import { MethodNotAllowedError } from '../../shared/admin/errors';
import { projectHealth, repairProject } from '../../shared/admin/health';
import {
  createIntegration,
  deleteIntegration,
  getIntegration,
  listIntegrations,
  patchIntegration,
  rotateSecret,
} from '../../shared/admin/integrations';
import {
  connectProject,
  disconnectProject,
  getProject,
  listProjects,
  patchProject,
} from '../../shared/admin/projects';
import { NotFoundError } from '../../shared/errors';

export interface AdminRequest {
  method: string;
  /** Without a trailing slash. */
  path: string;
  query: Record<string, string | undefined>;
  /** Names in lower case. */
  headers: Record<string, string | undefined>;
  /** The parsed JSON body; throws ValidationError when it is not JSON. */
  body: () => unknown;
}

type Run = (
  deps: AdminDeps,
  context: AdminContext,
  request: AdminRequest,
  id: string,
) => Promise<AdminResult>;

/** The admin API (docs/admin.md): method, path under `/admin/` (`{id}`: one segment), operation. */
const ROUTES: ReadonlyArray<readonly [string, string, Run]> = [
  ['POST', 'integrations', (d, c, r) => createIntegration(d, c, r.body())],
  ['GET', 'integrations', (d, c, r) => listIntegrations(d, c, r.query)],
  ['GET', 'integrations/{id}', (d, c, _r, name) => getIntegration(d, c, name)],
  [
    'PATCH',
    'integrations/{id}',
    (d, c, r, name) => patchIntegration(d, c, name, r.body(), r.headers['if-match']),
  ],
  ['DELETE', 'integrations/{id}', (d, c, _r, name) => deleteIntegration(d, c, name)],
  ['POST', 'integrations/{id}/rotate-secret', (d, c, _r, name) => rotateSecret(d, c, name)],
  ['POST', 'projects', (d, c, r) => connectProject(d, c, r.body())],
  ['GET', 'projects', (d, c, r) => listProjects(d, c, r.query)],
  ['GET', 'projects/{id}', (d, c, _r, id) => getProject(d, c, id)],
  ['PATCH', 'projects/{id}', (d, c, r, id) => patchProject(d, c, id, r.body())],
  ['DELETE', 'projects/{id}', (d, c, _r, id) => disconnectProject(d, c, id)],
  ['GET', 'projects/{id}/health', (d, c, _r, id) => projectHealth(d, c, id)],
  ['POST', 'projects/{id}/repair', (d, c, r, id) => repairProject(d, c, id, r.body())],
  ['GET', 'deliveries', (d, _c, r) => listDeliveries(d, r.query)],
  ['GET', 'deliveries/{id}', (d, _c, r, id) => getDelivery(d, id, r.query.integration)],
  ['POST', 'deliveries/{id}/replay', (d, c, r, id) => replayDelivery(d, c, id, r.query.integration)],
  ['POST', 'evaluate', (d, _c, r) => evaluate(d, r.body())],
];

const MATCHERS = ROUTES.map(
  ([method, path, run]) => [method, new RegExp(`^/admin/${path.replace('{id}', '([^/]+)')}$`), run] as const,
);

/** Runs the operation a request names. Throws NotFoundError (no such path) or MethodNotAllowedError. */
export function route(deps: AdminDeps, context: AdminContext, request: AdminRequest): Promise<AdminResult> {
  const allowed: string[] = [];
  for (const [method, pattern, run] of MATCHERS) {
    const match = pattern.exec(request.path);
    if (!match) continue;
    if (method !== request.method) {
      allowed.push(method);
      continue;
    }
    let id = '';
    try {
      id = decodeURIComponent(match[1] ?? '');
    } catch {
      break;
    }
    return run(deps, context, request, id);
  }
  if (allowed.length) {
    throw new MethodNotAllowedError(`${request.path} takes ${allowed.join(', ')}, not ${request.method}`);
  }
  throw new NotFoundError(`no admin route ${request.method} ${request.path}`);
}
