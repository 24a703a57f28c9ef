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
    request: ({ values }) => {
      const limit = str(values, 'limit');
      if (limit !== undefined && !/^[1-9]\d{0,3}$/.test(limit)) {
        throw new UsageError(`--limit must be a whole number from 1 to 9999, not "${limit}"`);
      }
      return {
        method: 'GET',
        path: '/admin/deliveries',
        query: {
          integration: str(values, 'integration'),
          project: str(values, 'project'),
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
