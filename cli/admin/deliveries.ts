import { MAX_DELIVERIES_PAGE } from '../../shared/admin/schemas';
import type { DeliveryDetailView, DeliveryPageAnswer, ReplayAnswer } from '../../shared/admin/views';
import type { Decision } from '../../shared/domain/decision';
import type { AdminResponse } from '../admin-client';
import { cell, decisionsTable, fields, table } from '../admin-format';
import { UsageError } from '../errors';
import { segment, str, type Verb } from './verb';

/** `hookgate admin deliveries <verb>` */
export const DELIVERY_VERBS: Record<string, Verb> = {
  list: {
    args: [],
    options: {
      integration: { type: 'string' },
      project: { type: 'string' },
      limit: { type: 'string' },
      next: { type: 'string' },
    },
    synopsis: `(--integration <name> | --project <id>) [--limit 1-${MAX_DELIVERIES_PAGE}] [--next <cursor>]`,
    about: [
      'Newest first: every delivery an integration received, or those decided for one project.',
      '--limit: how many on a page [25]; --next: the cursor the last page printed.',
    ],
    flags: { limit: '--limit', next: '--next', integration: '--integration', project: '--project' },
    request: ({ values }) => {
      const integration = str(values, 'integration');
      const project = str(values, 'project');
      if (!integration === !project) {
        throw new UsageError(
          `${integration ? 'give one of' : 'give'} --integration <name> (every delivery it received) or --project <id> (those decided for it)${integration ? ', not both' : ''}`,
        );
      }
      const limit = str(values, 'limit');
      if (
        limit !== undefined &&
        !(/^\d+$/.test(limit) && Number(limit) >= 1 && Number(limit) <= MAX_DELIVERIES_PAGE)
      ) {
        throw new UsageError(
          `--limit must be a whole number from 1 to ${MAX_DELIVERIES_PAGE}, not "${limit}"`,
        );
      }
      return {
        method: 'GET',
        path: '/admin/deliveries',
        query: {
          integration,
          project,
          limit,
          next: str(values, 'next'),
        },
      };
    },
    render: ({ body }: AdminResponse<DeliveryPageAnswer>) => {
      const rows = body.items.map((item) => [
        item.deliveryId,
        item.integration,
        item.eventKey,
        item.status,
        cell(item.projectId),
        item.receivedAt,
        decisionSummary(item.decisions),
      ]);
      const text =
        rows.length === 0
          ? 'no deliveries\n'
          : table(['ID', 'INTEGRATION', 'EVENT', 'STATUS', 'PROJECT', 'RECEIVED', 'DECISIONS'], rows);
      return body.next ? `${text}more: add --next ${body.next}\n` : text;
    },
  },
  get: {
    args: ['id'],
    options: { integration: { type: 'string' } },
    synopsis: '[--integration <name>]',
    about: [
      'One delivery with its headers (never the signature) and decisions: why it built or did not.',
      '--integration: when the same id is in two integrations.',
    ],
    request: ({ args, values }) => ({
      method: 'GET',
      path: `/admin/deliveries/${segment(args.id)}`,
      query: { integration: str(values, 'integration') },
    }),
    render: ({ body }: AdminResponse<DeliveryDetailView>) => {
      const head = fields(body, ['decisions']);
      return body.decisions.length === 0 ? head : `${head}\n${decisionsTable(body.decisions)}`;
    },
  },
  replay: {
    args: ['id'],
    options: { integration: { type: 'string' } },
    synopsis: '[--integration <name>]',
    about: [
      "Decides a delivery again with today's rules, settings and pull requests, as a new delivery",
      'replay-<id>-<n>. A trigger already sent is not sent again.',
    ],
    request: ({ args, values }) => ({
      method: 'POST',
      path: `/admin/deliveries/${segment(args.id)}/replay`,
      query: { integration: str(values, 'integration') },
    }),
    render: ({ body }: AdminResponse<ReplayAnswer>, { args }) =>
      `replayed delivery ${args.id}\n${fields(body)}`,
  },
};

/** `2 trigger, 1 skip`: the decisions of one delivery at a glance. */
function decisionSummary(decisions: readonly Decision[]): string {
  const counts = new Map<string, number>();
  for (const { action } of decisions) counts.set(action, (counts.get(action) ?? 0) + 1);
  return [...counts].map(([action, count]) => `${count} ${action}`).join(', ');
}
