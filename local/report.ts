import type { Decision } from '../shared/domain/decision';
import type { TriggerMessage } from '../shared/domain/trigger-message';
import type { DecisionReport } from '../shared/ingest/process-delivery';
import type { ProjectRecord } from '../shared/store/store';
import type { DeadLetter } from './local-queue';

// The console lines of the local stack. Each event starts with its own word at column 0
// (`delivery`, `trigger`, `connected`, `rejected`, `dead-letter`, `admin`) so they are easy to grep.

/** `delivery <id>  <event key>  <repository>` and one indented line per decision. */
export function formatDecisions(report: DecisionReport): string[] {
  const platform = report.provider === 'bitbucket-data-center' ? ' (Data Center)' : '';
  const header =
    `delivery ${report.deliveryId}  ${report.eventKey}${platform}  ${report.repository ?? ''}`.trimEnd();
  if (report.status === 'invalid')
    return [header, `  invalid: ${report.error ?? 'the payload could not be read'}`];
  return [header, ...report.decisions.map(formatDecision)];
}

export function formatDecision(decision: Decision): string {
  const sha = decision.commit ? ` [${shortSha(decision.commit.sha)}]` : '';
  return `  ${decision.action.padEnd(7)} ${decision.reason}: ${decision.message}${sha}`;
}

/** `trigger  <repository>  <ref type> <ref>  <short sha>  <reason>`. */
export function formatTrigger(message: TriggerMessage): string {
  const untrusted = message.trust === 'untrusted' ? '  (untrusted)' : '';
  return `trigger  ${message.project.repository}  ${message.ref.type} ${message.ref.name}  ${shortSha(message.commit.sha)}  ${message.reason}${untrusted}`;
}

export function formatAlreadySent(triggerId: string): string {
  return `  (trigger ${triggerId.slice(0, 12)} was already sent for this ref and commit by an earlier delivery; not sent again)`;
}

export function formatConnected(project: ProjectRecord, placeholderCloneUrl?: string): string[] {
  const lines = [
    `connected ${project.fullName} as project ${project.id} (default branch ${project.defaultBranch}): unknown repositories are connected automatically in local mode`,
  ];
  if (placeholderCloneUrl) {
    lines.push(
      `  the payload has no clone links: triggers carry ${placeholderCloneUrl} until a delivery that has them`,
    );
  }
  return lines;
}

export function formatRejected(method: string, path: string, status: number, body: string): string {
  let reason = '';
  try {
    const error = (JSON.parse(body) as { error?: { code?: string; message?: string } }).error;
    if (error) reason = ` ${error.code ?? ''}: ${error.message ?? ''}`;
  } catch {
    reason = '';
  }
  return `rejected ${method} ${path}  ${status}${reason}`;
}

export function formatDeadLetter(letter: DeadLetter, where: string): string {
  return `dead-letter ${letter.queue}: message ${letter.messageId} failed ${letter.receiveCount} times and was set aside (kept in ${where})`;
}

export function shortSha(sha: string): string {
  return sha.slice(0, 7);
}

/**
 * `admin <action> <resource>  key=value …`: an admin API audit line (never a secret: the admin
 * code passes none). The principal is left out: locally it is always `local-admin`.
 */
export function formatAudit(entry: Record<string, unknown>): string {
  const { principal: _principal, action, resource, ...details } = entry;
  const shown = Object.entries(details)
    .filter(([, value]) => value !== undefined)
    .map(([name, value]) => `${name}=${auditValue(value)}`);
  return `admin ${String(action)} ${String(resource)}${shown.length ? `  ${shown.join(' ')}` : ''}`;
}

function auditValue(value: unknown): string {
  if (Array.isArray(value)) return value.map(auditValue).join(',');
  return typeof value === 'string' ? value : JSON.stringify(value);
}
