import { NotFoundError, ValidationError } from '../errors';
import { evaluateDelivery } from '../evaluate';
import { DELIVERY_TTL_DAYS } from '../ingest/accept-delivery';
import { enqueueDelivery } from '../ingest/delivery-message';
import type { DeliveryRecord } from '../store/store';
import { validate } from '../validation';
import {
  type AdminContext,
  type AdminDeps,
  type AdminRequest,
  type AdminResult,
  activeIntegration,
  audit,
  findProject,
  idOf,
  integrationNameOf,
  MAX_ID_BYTES,
  shown,
} from './context';
import { ConflictError } from './errors';
import { EvaluateSchema, INTEGRATION_NAME, MAX_DELIVERIES_PAGE } from './schemas';
import {
  type DeliveryPageAnswer,
  deliveryDetail,
  deliverySummary,
  type EvaluateAnswer,
  type ReplayAnswer,
} from './views';

const DEFAULT_LIMIT = 25;
/** Replays of one delivery are numbered; past this many, replay the last replay's result instead. */
const MAX_REPLAYS = 100;
const MAX_CURSOR_LENGTH = 4_096;

/**
 * `GET /admin/deliveries?integration=&project=&limit=&next=`: newest first. A project lists the
 * deliveries decided for it; an integration lists all it received. Throws ValidationError.
 */
export async function listDeliveries(
  deps: AdminDeps,
  _context: AdminContext,
  { query }: AdminRequest,
): Promise<AdminResult> {
  const { integration, project, next } = query;
  if (!integration === !project) {
    throw new ValidationError('give exactly one of integration and project');
  }
  if (integration && !INTEGRATION_NAME.test(integration)) {
    throw new ValidationError(`integration must be an integration name, not "${shown(integration)}"`);
  }
  if (project && Buffer.byteLength(project) > MAX_ID_BYTES) {
    throw new ValidationError(`project must be a project id, not "${shown(project)}"`);
  }
  // A cursor is a few hundred bytes of key; a longer one was not ours.
  if (next && next.length > MAX_CURSOR_LENGTH) throw new ValidationError('next is not a page cursor');
  const limit = query.limit === undefined ? DEFAULT_LIMIT : Number(query.limit);
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_DELIVERIES_PAGE) {
    throw new ValidationError(
      `limit must be a whole number from 1 to ${MAX_DELIVERIES_PAGE}, not "${query.limit}"`,
    );
  }
  const page = await deps.store.listDeliveries({
    // Exactly one of the two is given (checked above).
    projectId: project,
    integration,
    limit,
    cursor: next || undefined,
  });
  const answer: DeliveryPageAnswer = { items: page.items.map(deliverySummary), next: page.next ?? null };
  return { status: 200, body: answer };
}

/** `GET /admin/deliveries/{id}?integration=`: with decisions and headers (the signature is not kept). */
export async function getDelivery(
  deps: AdminDeps,
  _context: AdminContext,
  { id, query }: AdminRequest,
): Promise<AdminResult> {
  return { status: 200, body: deliveryDetail(await findDelivery(deps, id, query.integration)) };
}

/**
 * `POST /admin/deliveries/{id}/replay`: records a new delivery `replay-<id>-<n>` with the stored
 * body and headers and enqueues it on `deliveries.fifo`, so the processor decides it again with
 * today's rules, settings and pull-request state. Trigger ids are unchanged by a replay, so a
 * trigger already sent is not sent again; only what today's rules newly decide to build is.
 */
export async function replayDelivery(
  deps: AdminDeps,
  context: AdminContext,
  { id, query }: AdminRequest,
): Promise<AdminResult> {
  const original = await findDelivery(deps, id, query.integration);
  const integration = await activeIntegration(deps, original.integration);
  const source = original.replayOf ?? original.deliveryId;
  const receivedAt = deps.now().toISOString();
  let deliveryId: string | undefined;
  let reused = false;
  for (let n = 1; n <= MAX_REPLAYS && !deliveryId; n++) {
    const candidate = `replay-${source}-${n}`;
    const created = await deps.store.createDelivery(
      {
        integration: integration.name,
        deliveryId: candidate,
        provider: original.provider,
        eventKey: original.eventKey,
        headers: original.headers,
        bodyGzip: original.bodyGzip,
        repositoryId: original.repositoryId,
        receivedAt,
        replayOf: source,
      },
      DELIVERY_TTL_DAYS,
    );
    if (created.created) deliveryId = candidate;
    // A replay still waiting to be decided (an earlier request whose answer was lost, or one in
    // flight) is enqueued again rather than joined by another: it decides the same as a new one.
    else if (created.status === 'received') {
      deliveryId = candidate;
      reused = true;
    }
  }
  if (!deliveryId) throw new ConflictError(`delivery ${source} was replayed ${MAX_REPLAYS} times already`);

  try {
    await enqueueDelivery(deps.deliveries, {
      integration: integration.name,
      deliveryId,
      repositoryId: original.repositoryId,
    });
  } catch (error) {
    // Undo only what this request recorded: a reused replay may be queued already, and if it is
    // not, the sweeper enqueues it.
    if (!reused) await deps.store.deleteDelivery(integration.name, deliveryId).catch(() => undefined);
    throw error;
  }
  audit(deps, context, 'delivery.replay', `delivery/${integration.name}/${source}`, { replay: deliveryId });
  return {
    status: 202,
    body: {
      deliveryId,
      integration: integration.name,
      replayOf: source,
      status: 'received',
    } satisfies ReplayAnswer,
  };
}

/** A delivery by id, in the given integration or, without one, in whichever integration has it. */
async function findDelivery(
  deps: AdminDeps,
  id: string,
  integration: string | undefined,
): Promise<DeliveryRecord> {
  idOf(id, 'delivery');
  if (integration) {
    integrationNameOf(integration);
    const found = await deps.store.getDelivery(integration, id);
    if (!found) throw new NotFoundError(`no delivery ${id} in integration "${integration}"`);
    return found;
  }
  const found: DeliveryRecord[] = [];
  for (const candidate of await deps.store.listIntegrations()) {
    const delivery = await deps.store.getDelivery(candidate.name, id);
    if (delivery) found.push(delivery);
  }
  if (found.length > 1) {
    throw new ConflictError(
      `delivery ${id} exists in integrations ${found.map((d) => `"${d.integration}"`).join(', ')}: add ?integration=`,
      'ambiguous',
    );
  }
  if (!found[0]) throw new NotFoundError(`no delivery ${id}`);
  return found[0];
}

/**
 * `POST /admin/evaluate`: the engine of `hookgate evaluate`, with no side effects. With a
 * `projectId` the project's settings, default branch and current open pull requests are used
 * (`state` may replace the latter); otherwise `settings` and `defaultBranch` [main].
 */
export async function evaluate(
  deps: AdminDeps,
  _context: AdminContext,
  { body }: AdminRequest,
): Promise<AdminResult> {
  const input = validate(EvaluateSchema, body(), 'request');
  if (input.payload === undefined) throw new ValidationError('invalid request: payload is missing');
  if (input.projectId && (input.settings !== undefined || input.defaultBranch !== undefined)) {
    throw new ValidationError(
      'give projectId, or settings and defaultBranch, not both: the project has its own; PATCH it to change them',
    );
  }
  // A project brings its own settings, default branch and open pull requests (`state` may replace them).
  const project = input.projectId ? await findProject(deps, input.projectId) : undefined;
  const { decisions } = evaluateDelivery({
    eventKey: input.eventKey,
    payload: input.payload,
    provider: input.provider ?? project?.provider,
    defaultBranch: project?.defaultBranch ?? input.defaultBranch ?? 'main',
    settings: project ? project.settings : input.settings,
    state:
      input.state ??
      (project ? { openPullRequests: await deps.store.listOpenPullRequests(project.id) } : undefined),
    projectId: project?.id,
  });
  return { status: 200, body: { decisions } satisfies EvaluateAnswer };
}
