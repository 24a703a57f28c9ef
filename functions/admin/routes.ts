import { requestBuild } from '../../shared/admin/builds';
import type {
  AdminContext,
  AdminDeps,
  AdminOperation,
  AdminRequest,
  AdminResult,
} from '../../shared/admin/context';
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

/** The admin API (docs/admin.md): method, path under `/admin/` (`{id}`: one segment), operation. */
const ROUTES: ReadonlyArray<readonly [string, string, AdminOperation]> = [
  ['POST', 'integrations', createIntegration],
  ['GET', 'integrations', listIntegrations],
  ['GET', 'integrations/{id}', getIntegration],
  ['PATCH', 'integrations/{id}', patchIntegration],
  ['DELETE', 'integrations/{id}', deleteIntegration],
  ['POST', 'integrations/{id}/rotate-secret', rotateSecret],
  ['POST', 'projects', connectProject],
  ['GET', 'projects', listProjects],
  ['GET', 'projects/{id}', getProject],
  ['PATCH', 'projects/{id}', patchProject],
  ['DELETE', 'projects/{id}', disconnectProject],
  ['GET', 'projects/{id}/health', projectHealth],
  ['POST', 'projects/{id}/repair', repairProject],
  ['POST', 'projects/{id}/builds', requestBuild],
  ['GET', 'deliveries', listDeliveries],
  ['GET', 'deliveries/{id}', getDelivery],
  ['POST', 'deliveries/{id}/replay', replayDelivery],
  ['POST', 'evaluate', evaluate],
];

const MATCHERS = ROUTES.map(
  ([method, path, run]) => [method, new RegExp(`^/admin/${path.replace('{id}', '([^/]+)')}$`), run] as const,
);

/** The path of the index: `/admin` and `/admin/` (a trailing slash is dropped before routing). */
export const INDEX_PATH = '/admin';

/**
 * `GET /admin/`: what the API holds and how to call it, for a person who opens the base URL. It
 * names no record, so it is answered without authentication.
 */
export function adminIndex(auth: AdminDeps['auth']) {
  return {
    name: 'Hookgate admin API',
    authentication:
      auth.kind === 'token'
        ? 'send the admin token the local stack printed: Authorization: Bearer <token>'
        : 'IAM: requests signed with SigV4 for execute-api',
    documentation: 'docs/admin.md',
    resources: ['integrations', 'projects', 'deliveries', 'evaluate'],
    routes: ROUTES.map(([method, path]) => `${method} /admin/${path}`),
  };
}

/**
 * Runs the operation a request names, with the path's id. Throws NotFoundError (no such path)
 * or MethodNotAllowedError.
 */
export function route(
  deps: AdminDeps,
  context: AdminContext,
  request: Omit<AdminRequest, 'id'>,
): Promise<AdminResult> {
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
    return run(deps, context, { ...request, id });
  }
  if (allowed.length) {
    throw new MethodNotAllowedError(`${request.path} takes ${allowed.join(', ')}, not ${request.method}`);
  }
  throw new NotFoundError(`no admin route ${request.method} ${request.path}`);
}
