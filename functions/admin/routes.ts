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

const INTEGRATION = /^\/admin\/integrations\/([^/]+)$/;
const PROJECT = /^\/admin\/projects\/([^/]+)$/;

/** The admin API (docs/admin.md): method, path pattern (one id at most), operation. */
const ROUTES: ReadonlyArray<readonly [string, RegExp, Run]> = [
  ['POST', /^\/admin\/integrations$/, (d, c, r) => createIntegration(d, c, r.body())],
  ['GET', /^\/admin\/integrations$/, (d, c, r) => listIntegrations(d, c, r.query)],
  ['GET', INTEGRATION, (d, c, _r, name) => getIntegration(d, c, name)],
  ['PATCH', INTEGRATION, (d, c, r, name) => patchIntegration(d, c, name, r.body(), r.headers['if-match'])],
  ['DELETE', INTEGRATION, (d, c, _r, name) => deleteIntegration(d, c, name)],
  ['POST', /^\/admin\/integrations\/([^/]+)\/rotate-secret$/, (d, c, _r, name) => rotateSecret(d, c, name)],
  ['POST', /^\/admin\/projects$/, (d, c, r) => connectProject(d, c, r.body())],
  ['GET', /^\/admin\/projects$/, (d, c, r) => listProjects(d, c, r.query)],
  ['GET', PROJECT, (d, c, _r, id) => getProject(d, c, id)],
  ['PATCH', PROJECT, (d, c, r, id) => patchProject(d, c, id, r.body())],
  ['DELETE', PROJECT, (d, c, _r, id) => disconnectProject(d, c, id)],
  ['GET', /^\/admin\/projects\/([^/]+)\/health$/, (d, c, _r, id) => projectHealth(d, c, id)],
  ['POST', /^\/admin\/projects\/([^/]+)\/repair$/, (d, c, r, id) => repairProject(d, c, id, r.body())],
  ['GET', /^\/admin\/deliveries$/, (d, _c, r) => listDeliveries(d, r.query)],
  ['GET', /^\/admin\/deliveries\/([^/]+)$/, (d, _c, r, id) => getDelivery(d, id, r.query.integration)],
  [
    'POST',
    /^\/admin\/deliveries\/([^/]+)\/replay$/,
    (d, c, r, id) => replayDelivery(d, c, id, r.query.integration),
  ],
  ['POST', /^\/admin\/evaluate$/, (d, _c, r) => evaluate(d, r.body())],
];

/** Runs the operation a request names. Throws NotFoundError (no such path) or MethodNotAllowedError. */
export function route(deps: AdminDeps, context: AdminContext, request: AdminRequest): Promise<AdminResult> {
  const allowed: string[] = [];
  for (const [method, pattern, run] of ROUTES) {
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
