import { isRecord } from '../../shared/is-record';
import { cell, fields, itemsOf, nextOf, pick, table } from '../admin-format';
import { UsageError } from '../errors';
import { segment, str, unwrap, type Verb } from './verb';

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
    render: ({ body }) => {
      const items = itemsOf(body);
      const next = nextOf(body);
      const rows = items.map((item) => [
        cell(pick(item, 'deliveryId', 'id')),
        cell(pick(item, 'integration')),
        cell(pick(item, 'eventKey')),
        cell(pick(item, 'status')),
        cell(pick(item, 'projectId', 'project')),
        cell(pick(item, 'receivedAt')),
        decisionSummary(isRecord(item) ? item.decisions : undefined),
      ]);
      const text =
        items.length === 0
          ? 'no deliveries\n'
          : table(['ID', 'INTEGRATION', 'EVENT', 'STATUS', 'PROJECT', 'RECEIVED', 'DECISIONS'], rows);
      return next ? `${text}more: add --next ${next}\n` : text;
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
    render: ({ body }) => {
      const record = unwrap(body, 'delivery');
      const decisions = isRecord(record) && Array.isArray(record.decisions) ? record.decisions : [];
      const head = fields(record, ['decisions', 'bodyGzip', 'body']);
      if (decisions.length === 0) return head;
      const rows = decisions.map((decision) => {
        const ref = isRecord(decision) && isRecord(decision.ref) ? decision.ref : {};
        return [
          `${cell(pick(decision, 'action'))}${sentNote(decision)}`,
          cell(pick(decision, 'reason')),
          ref.type && ref.name ? `${cell(ref.type)} ${cell(ref.name)}` : '',
          cell(pick(decision, 'message')),
        ];
      });
      return `${head}\n${table(['ACTION', 'REASON', 'REF', 'MESSAGE'], rows)}`;
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
    render: ({ body }, { args }) => `replayed delivery ${args.id}\n${body === undefined ? '' : fields(body)}`,
  },
};

/**
 * `2 trigger (1 sent, 1 already sent), 1 skip`: the decisions of one delivery at a glance. A
 * trigger an earlier delivery had sent was not sent again (`sent: false`).
 */
function decisionSummary(decisions: unknown): string {
  if (!Array.isArray(decisions)) return '';
  const counts = new Map<string, number>();
  const sent = { true: 0, false: 0 };
  for (const decision of decisions) {
    const action = pick(decision, 'action') ?? '?';
    counts.set(action, (counts.get(action) ?? 0) + 1);
    if (isRecord(decision) && typeof decision.sent === 'boolean') sent[`${decision.sent}`] += 1;
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

/** ` (sent)` or ` (already sent)` after a trigger whose delivery recorded it. */
function sentNote(decision: unknown): string {
  if (!isRecord(decision) || typeof decision.sent !== 'boolean') return '';
  return decision.sent ? ' (sent)' : ' (already sent)';
}
