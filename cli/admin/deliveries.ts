import { MAX_DELIVERIES_PAGE } from '../../shared/admin/schemas';
import type {
  DecisionView,
  DeliveryDetailView,
  DeliveryPageAnswer,
  ReplayAnswer,
} from '../../shared/admin/views';
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

/**
 * `2 trigger (1 sent, 1 already sent), 1 skip`: the decisions of one delivery at a glance. A
 * trigger an earlier delivery had sent was not sent again (`sent: false`).
 */
function decisionSummary(decisions: readonly DecisionView[]): string {
  const counts = new Map<string, number>();
  const sent = { true: 0, false: 0 };
  for (const decision of decisions) {
    counts.set(decision.action, (counts.get(decision.action) ?? 0) + 1);
    if (typeof decision.sent === 'boolean') sent[`${decision.sent}`] += 1;
  }
  const triggers = [
    ...(sent.true ? [`${sent.true} sent`] : []),
    ...(sent.false ? [`${sent.false} already sent`] : []),
  ];
  const detail = (action: string, count: number) =>
    action !== 'trigger' || triggers.length === 0
      ? ''
      : triggers.length === 1 && sent.true + sent.false === count
        ? ` (${triggers[0]?.replace(/^\d+ /, '')})`
        : ` (${triggers.join(', ')})`;
  return [...counts].map(([action, count]) => `${count} ${action}${detail(action, count)}`).join(', ');
}
